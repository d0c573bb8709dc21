"""What every domain uses and no domain owns: ids, money, quantities, form fields, stored messages.

The kernel imports no domain package (``portal.org``, ``portal.goods`` …): domains import it.
"""
