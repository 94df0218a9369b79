-- The fulfilment dashboard lists pending and paid orders by status.
CREATE INDEX idx_orders_status ON orders (status);
