from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from .models import Product


async def product_detail(request, pk):
    product = Product.objects.get(pk=pk)
    return render(request, "shop/product.html", {"product": product})


def product_names(request):
    return JsonResponse(list(Product.objects.values_list("name", flat=True)))


def search(request):
    term = request.GET.get("q", "")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, name FROM shop_product WHERE name LIKE '%{term}%'")
        rows = cursor.fetchall()
    return JsonResponse({"results": rows})
