# Importing the cosignature module registers its key type (0x04) with the note parser.
from oversight.ledger import cosignature as cosignature
