from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.urls import path


def hello(request):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS visits (n INTEGER)")
        cursor.execute("INSERT INTO visits VALUES (1)")
        cursor.execute("SELECT COUNT(*) FROM visits")
        visits = cursor.fetchone()[0]
    css = (settings.STATIC_ROOT / "site.css").read_text().strip()
    return HttpResponse(f"hello from django, visit {visits}, {css}\n")


urlpatterns = [path("", hello)]
