-- Orders of the shop; ids are allocated by SQLite (INTEGER PRIMARY KEY).
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    total_cents INTEGER NOT NULL CHECK (total_cents > 0),
    currency TEXT NOT NULL DEFAULT 'EUR',
    created_at TEXT NOT NULL
);
