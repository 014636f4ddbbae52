-- Verifiable slips: the same as app/migrations/sqlite/0011_slip_serials.sql, whose
-- comments explain it. The serials of existing departures come from gen_random_uuid()
-- (a cryptographic generator; its first byte is wholly random), one character a call.
ALTER TABLE departures ADD COLUMN serial TEXT;
ALTER TABLE departures ADD COLUMN tag TEXT;
UPDATE departures SET serial =
    substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (get_byte(uuid_send(gen_random_uuid()), 0) & 31), 1) ||
    substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (get_byte(uuid_send(gen_random_uuid()), 0) & 31), 1) ||
    substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (get_byte(uuid_send(gen_random_uuid()), 0) & 31), 1) ||
    substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (get_byte(uuid_send(gen_random_uuid()), 0) & 31), 1) ||
    substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (get_byte(uuid_send(gen_random_uuid()), 0) & 31), 1) ||
    substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (get_byte(uuid_send(gen_random_uuid()), 0) & 31), 1) ||
    substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (get_byte(uuid_send(gen_random_uuid()), 0) & 31), 1) ||
    substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (get_byte(uuid_send(gen_random_uuid()), 0) & 31), 1) ||
    substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (get_byte(uuid_send(gen_random_uuid()), 0) & 31), 1) ||
    substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (get_byte(uuid_send(gen_random_uuid()), 0) & 31), 1) ||
    substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (get_byte(uuid_send(gen_random_uuid()), 0) & 31), 1) ||
    substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (get_byte(uuid_send(gen_random_uuid()), 0) & 31), 1) ||
    substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (get_byte(uuid_send(gen_random_uuid()), 0) & 31), 1) ||
    substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (get_byte(uuid_send(gen_random_uuid()), 0) & 31), 1) ||
    substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (get_byte(uuid_send(gen_random_uuid()), 0) & 31), 1) ||
    substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (get_byte(uuid_send(gen_random_uuid()), 0) & 31), 1);
ALTER TABLE departures ALTER COLUMN serial SET NOT NULL;
ALTER TABLE departures ADD CONSTRAINT departures_serial_unique UNIQUE (serial);
CREATE INDEX departures_untagged ON departures (id) WHERE tag IS NULL;
