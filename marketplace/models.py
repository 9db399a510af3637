"""Import every domain's models so ``Base.metadata`` is complete (Alembic, drift test, test fixtures)."""

from marketplace.accounts.models import User, UserToken  # noqa: F401
from marketplace.audit.models import AuditEntry  # noqa: F401
from marketplace.creators.models import (  # noqa: F401
    Creator,
    CreatorCategory,
    CreatorRegion,
    IdentityVerification,
    PlatformAccount,
    RateCardPrice,
    RateCardVersion,
    Shortlist,
    ShortlistEntry,
    StatSnapshot,
    Work,
)
from marketplace.creators.search_index import CreatorSearch  # noqa: F401
from marketplace.db import Base
from marketplace.enterprises.models import Enterprise, Invitation, Membership, VerificationEvent  # noqa: F401
from marketplace.files.models import StoredFile  # noqa: F401
from marketplace.ledger.models import LedgerAccount, LedgerTransaction, Posting  # noqa: F401
from marketplace.mail.models import OutboxEmail  # noqa: F401
from marketplace.notifications.models import Notification  # noqa: F401
from marketplace.orders.models import (  # noqa: F401
    Application,
    Campaign,
    Dispute,
    DisputeEvidence,
    Draft,
    DraftFile,
    Job,
    JobEvent,
    LiveReport,
    Message,
    Order,
    OrderEvent,
    Review,
    ThreadRead,
)
from marketplace.payments.models import CreditLine, StripeEvent, TopUp  # noqa: F401

metadata = Base.metadata
