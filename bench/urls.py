"""The product's URLs plus the floor (bench/floor.py) at /bench/floor/<id>/<action>/."""

from django.urls import path

from bench.floor import floor
from config.urls import urlpatterns as product

urlpatterns = [path("bench/floor/<int:pk>/<str:action>/", floor), *product]
