from django.contrib.auth.decorators import login_not_required
from django.urls import path

from governance import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", login_not_required(views.LoginView.as_view()), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("governance/audit/", views.audit_page, name="audit-trail"),
    path("governance/audit/export.csv", views.audit_export, name="audit-export"),
]
