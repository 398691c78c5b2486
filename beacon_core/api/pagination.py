"""Pagination shared by every list endpoint."""

from rest_framework.pagination import PageNumberPagination


class DefaultPagination(PageNumberPagination):
    """Page-number pagination with a client-chosen page size, capped to protect the database."""

    page_size_query_param = "page_size"
    max_page_size = 500
