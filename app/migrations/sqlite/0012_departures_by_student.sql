-- The clearance page, 已完成事项 and the slip read a student's departures, revoked ones
-- included: the partial unique index (active ones only) cannot answer that, so every
-- page scanned the whole table, which grows to one row per graduate on departure day.
CREATE INDEX departures_by_student ON departures (student_number, id);
