from api.errors import NotFound


class TagNotFound(NotFound):
    title = "Tag not found"
