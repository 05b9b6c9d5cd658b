from api.errors import Conflict, Forbidden, NotFound


class CommentNotFound(NotFound):
    title = "Comment not found"


class CommentsClosed(Forbidden):
    title = "Comments are closed"


class DuplicateComment(Conflict):
    title = "Duplicate comment"
