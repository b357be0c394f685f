"""Every write of the billing area (DESIGN §6): customer products, orders, invoices.

Each service checks access itself through partnerhub.access, runs in one transaction, records an
audit entry in it and sends emails once it commits. The modules:

- ``products``: customer products (add, quantity, suspend/reactivate, cancel, trial conversion,
  relative licence recount, ends of terms and trials);
- ``orders``: placing an order (pricing, cashback, customer products, invoice, confirmation email);
- ``invoices``: gapless numbering, paid/overdue/cancelled/refunded, billing events, cashback reversal;
- ``renewals``: the daily renewal invoices of products that are due.
"""

from partnerhub.billing.services.common import OPERATOR_BILLING
from partnerhub.billing.services.invoices import (
    cancel_invoice,
    issue_invoice,
    mark_invoice_paid,
    mark_overdue_invoices,
    refund_invoice,
)
from partnerhub.billing.services.orders import OrderRequest, place_order, preview_order
from partnerhub.billing.services.products import (
    add_customer_product,
    cancel_customer_product,
    change_quantity,
    convert_trial,
    end_due_products,
    reactivate_customer_product,
    recount_relative_licences,
    resume_customer_product,
    suspend_customer_product,
)
from partnerhub.billing.services.renewals import invoice_renewals

__all__ = [
    "OPERATOR_BILLING",
    "OrderRequest",
    "add_customer_product",
    "cancel_customer_product",
    "cancel_invoice",
    "change_quantity",
    "convert_trial",
    "end_due_products",
    "invoice_renewals",
    "issue_invoice",
    "mark_invoice_paid",
    "mark_overdue_invoices",
    "place_order",
    "preview_order",
    "reactivate_customer_product",
    "recount_relative_licences",
    "refund_invoice",
    "resume_customer_product",
    "suspend_customer_product",
]
