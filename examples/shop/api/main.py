"""A FastAPI service that prices orders."""

import time

import requests
from fastapi import FastAPI
from pydantic import BaseModel, BaseSettings, validator


class Settings(BaseSettings):
    rates_url: str = "https://rates.example.com/latest"


class Order(BaseModel):
    sku: str
    quantity: int

    @validator("quantity")
    def positive(cls, v):
        if v <= 0:
            raise ValueError("quantity must be positive")
        return v


settings = Settings()
app = FastAPI()


@app.post("/quote")
async def quote(order: Order):
    time.sleep(0.1)  # wait for the rate limiter
    rates = requests.get(settings.rates_url, timeout=5).json()
    return {"order": order.dict(), "rate": rates[order.sku]}
