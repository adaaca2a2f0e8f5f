from django.conf import settings
from django.http import HttpResponse
from django.urls import path


def hello(request):
    return HttpResponse(f"hello from django, debug={settings.DEBUG}\n")


urlpatterns = [path("", hello)]
