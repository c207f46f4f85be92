"""Every table of the platform, imported in one place for Alembic and the tests."""

from platform_api.aria.models import AriaMessage, AriaSession
from platform_api.assessments.models import Assessment, AssessmentResult
from platform_api.auth.models import AuthToken
from platform_api.classes.models import ClassInvitation, ClassMember, SchoolClass
from platform_api.core.db import Base
from platform_api.courses.models import Course
from platform_api.documents.models import Document, IngestionJob
from platform_api.progress.models import StudentProgress
from platform_api.retention.models import MaintenanceRun
from platform_api.users.models import ParentLink, StudentProfile, User

__all__ = [
    "AriaMessage",
    "AriaSession",
    "Assessment",
    "AssessmentResult",
    "AuthToken",
    "Base",
    "ClassInvitation",
    "ClassMember",
    "Course",
    "Document",
    "IngestionJob",
    "MaintenanceRun",
    "ParentLink",
    "SchoolClass",
    "StudentProfile",
    "StudentProgress",
    "User",
]
