"""`PydanticNames`: which local names hold a Pydantic model class or an instance of one.

The base of PYS404 (and of any rule that asks the same question): it follows Python's
scopes and every binding form, so a rule only asks `value_of(node)` or `model_class(name)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from pystd.rules.context import FileContext, bound_names
from pystd.rules.engine import Rule
from pystd.rules.fastapi.pydantic.models import (
    CLASS_DECORATORS,
    CONSTRUCTORS,
    PYDANTIC_CONSTRUCTORS,
    Bound,
    Model,
    model_of,
)
from pystd.rules.walker import find_nodes


@dataclass(slots=True)
class _Scope:
    is_class: bool
    names: dict[str, Bound | None] = field(default_factory=dict)


class PydanticNames(Rule):
    """Base of rules that ask which local names hold a Pydantic model class or instance.

    Scopes follow Python's (module, class body, function, lambda); a name counts as a model
    only while every binding of it seen so far in its scope agrees, so `u = User()` in one
    branch and `u = httpx.get(url)` in the other leave `u` unknown. Subclasses overriding
    a visit/leave method here call `super()`.
    """

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._scopes: list[_Scope] = []
        self._classes: list[Model | None] = []  # the enclosing classes, as models or None
        self._module_models: dict[cst.ClassDef, Model | None] = {}

    def _lookup(self, name: str) -> Bound | None:
        last = len(self._scopes) - 1
        for i in range(last, -1, -1):
            scope = self._scopes[i]
            if scope.is_class and i != last:  # class bodies do not enclose their methods
                continue
            if name in scope.names:
                return scope.names[name]
        return None

    def imported_model(self, name: str) -> Model | None:
        """A model class `name` imported from elsewhere, when a subclass can tell (None
        here: an imported class is not known to be a model)."""
        return None

    def model_class(self, name: str) -> Model | None:
        bound = self._lookup(name)
        return bound.model if bound is not None and not bound.instance else None

    def _bind(self, name: str, bound: Bound | None) -> None:
        """Bind in the innermost scope; a name bound to different things is unknown."""
        names = self._scopes[-1].names
        names[name] = bound if names.get(name, bound) == bound else None

    def value_of(self, node: cst.BaseExpression | None) -> Bound | None:
        """What an expression evaluates to: `User(...)`, `User.model_validate(...)`, `u`."""
        if isinstance(node, cst.Name):
            return self._lookup(node.value)
        if not isinstance(node, cst.Call):
            return None
        func = node.func
        model = None
        if isinstance(func, cst.Name):
            model = self.model_class(func.value)
        elif (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
              and func.attr.value in CONSTRUCTORS):
            model = self.model_class(func.value.value)
            if model is None and func.attr.value in PYDANTIC_CONSTRUCTORS:
                model = self.imported_model(func.value.value)
        return Bound(model, instance=True) if model is not None else None

    def annotation_of(self, node: cst.Annotation | None) -> Bound | None:
        """`User`, `"User"`, `User | None` or `Optional[User]` -> an instance of User."""
        if node is None:
            return None
        ann = node.annotation
        if isinstance(ann, cst.BinaryOperation) and isinstance(ann.operator, cst.BitOr):
            if isinstance(ann.right, cst.Name) and ann.right.value == "None":
                ann = ann.left
        elif (isinstance(ann, cst.Subscript) and len(ann.slice) == 1
              and self.ctx.qualified_name(ann.value) == "typing.Optional"
              and isinstance(ann.slice[0].slice, cst.Index)):
            ann = ann.slice[0].slice.value
        name = None
        if isinstance(ann, cst.Name):
            name = ann.value
        elif isinstance(ann, cst.SimpleString) and str(ann.evaluated_value).isidentifier():
            name = str(ann.evaluated_value)
        model = self.model_class(name) if name is not None else None
        return Bound(model, instance=True) if model is not None else None

    def visit_Module(self, node: cst.Module) -> None:
        self._scopes.append(_Scope(is_class=False))
        for stmt in node.body:  # module-level models, in source order, before any use
            if isinstance(stmt, cst.ClassDef):
                model = model_of(stmt, self.ctx, self.model_class)
                self._module_models[stmt] = model
                self._bind(stmt.name.value, Bound(model, False) if model else None)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if node in self._module_models:
            model = self._module_models[node]
        else:
            model = model_of(node, self.ctx, self.model_class)
            self._bind(node.name.value, Bound(model, False) if model else None)
        self._classes.append(model)
        self._scopes.append(_Scope(is_class=True))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._classes.pop()
        self._scopes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind(node.name.value, None)
        owner = self.enclosing_model()
        self._scopes.append(_Scope(is_class=False))
        params = node.params
        positional = [*params.posonly_params, *params.params]
        for i, param in enumerate([*positional, *params.kwonly_params]):
            bound = self.annotation_of(param.annotation)
            if i == 0 and owner is not None and param in positional:
                bound = self._first_param(node, owner)
            self._bind(param.name.value, bound)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                self._bind(star.name.value, None)

    def _first_param(self, node: cst.FunctionDef, owner: Model) -> Bound | None:
        """`self` in a model's method is an instance; `cls` in a classmethod the class."""
        for dec in node.decorators:
            target = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
            qualified = self.ctx.qualified_name(target)
            if qualified in CLASS_DECORATORS:
                return Bound(owner, instance=False)
            if qualified == "builtins.staticmethod":
                return None
        return Bound(owner, instance=True)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._scopes.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._scopes.append(_Scope(is_class=False))
        for param in find_nodes(node.params, (cst.Param,)):
            assert isinstance(param, cst.Param)
            self._bind(param.name.value, None)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._scopes.pop()

    # Assignments bind after their value is visited: `u = u.dict()` reads the old `u`.
    def leave_Assign(self, original_node: cst.Assign) -> None:
        bound = self.value_of(original_node.value)
        for target in original_node.targets:
            names = bound_names(target.target)
            for name in names:
                self._bind(name, bound if isinstance(target.target, cst.Name) else None)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        for name in bound_names(original_node.target):
            self._bind(name, self.annotation_of(original_node.annotation))

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        self._forget(original_node.target)

    def leave_NamedExpr(self, original_node: cst.NamedExpr) -> None:
        for name in bound_names(original_node.target):
            self._bind(name, self.value_of(original_node.value))

    def _forget(self, target: cst.BaseExpression | None) -> None:
        for name in bound_names(target) if target is not None else ():
            self._bind(name, None)

    def visit_For(self, node: cst.For) -> None:
        self._forget(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._forget(node.asname.name)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._forget(node.name.name)

    def visit_Del(self, node: cst.Del) -> None:
        self._forget(node.target)

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        bound = node.asname.name if node.asname is not None else node.name
        if isinstance(bound, cst.Name):
            self._bind(bound.value, None)

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        self._forget(node.name)

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        self._forget(node.name)

    # A comprehension's element is visited before its `for`: forget its names up front.
    def _forget_comprehension(self, node: cst.ListComp | cst.SetComp | cst.GeneratorExp
                              | cst.DictComp) -> None:
        comp: cst.CompFor | None = node.for_in
        while comp is not None:
            self._forget(comp.target)
            comp = comp.inner_for_in

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _forget_comprehension

    def enclosing_model(self) -> Model | None:
        """The model whose class body holds the node being visited directly, if any."""
        return self._classes[-1] if self._classes and self._direct_child_of_class() else None

    def _direct_child_of_class(self) -> bool:
        """Is the node being visited a statement of a class body?"""
        ancestors = self.ctx.ancestors
        return len(ancestors) >= 3 and isinstance(ancestors[-3], cst.ClassDef)
