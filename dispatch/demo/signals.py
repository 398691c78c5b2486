"""``demo_seeded``: sent inside ``seed_write``'s transaction once the demo's dispatch data exists.

Dependencies point one way (tasking -> intelligence -> dispatch), so dispatch cannot write
another app's demo rows; apps that add to the demo (tasking's shifts) listen here instead.
Receivers get ``agencies`` (plan key -> Agency), ``users`` (username -> User) and ``units``
(call sign -> Unit); they must be idempotent, since a seed may run again on the same data.
"""

from django.dispatch import Signal

demo_seeded = Signal()
