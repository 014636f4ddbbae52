//! The lane (`app::db::lane`): the connections every signed-in request's session read
//! goes through, outside the pool and without its ping per statement. What the pool's
//! ping guarded must still hold: the lane reads what was just written, stays within its
//! share of `LIXIAO_DB_MAX_CONNECTIONS`, survives requests given up half-way, and never
//! hands out a connection the database server dropped. Runs on SQLite and, in the
//! PostgreSQL pass, on PostgreSQL.

mod support;

use std::time::Duration;

use app::{
    config::PoolSettings,
    db::{lane::Lane, sessions},
};

const KEY: &str = "lane-test-session";

async fn open(settings: PoolSettings) -> (tempfile::TempDir, app::db::Db, Lane, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = support::fresh_database_url(dir.path()).await;
    let db = app::db::open_with(&url, settings).await.expect("opens");
    let lane = Lane::new(&db, &settings);
    let far = app::clock::unix_now() + 3600;
    assert!(
        sessions::create(&db, KEY, None, r#"{"n":1}"#, far)
            .await
            .expect("a session row")
    );
    (dir, db, lane, url)
}

async fn data(lane: &Lane) -> String {
    sessions::load(lane, KEY, app::clock::unix_now())
        .await
        .expect("loads")
        .expect("the session is there")
        .data
}

/// A lane connection holds no snapshot from its last statement: what the pool commits
/// is what the next request reads (a verdict is never older than the office's data).
#[tokio::test]
async fn the_lane_reads_what_the_pool_just_wrote() {
    let (_dir, db, lane, _) = open(PoolSettings::default()).await;
    assert_eq!(data(&lane).await, r#"{"n":1}"#);
    for n in 2..6 {
        let written = format!(r#"{{"n":{n}}}"#);
        let far = app::clock::unix_now() + 3600;
        sessions::save(&db, KEY, None, &written, far)
            .await
            .expect("saved");
        assert_eq!(data(&lane).await, written);
    }
    db.close().await;
}

/// Many requests at once share the lane's few connections: it opens no more than its
/// share of `max_connections` (the pool keeps to the rest: `pool_connections`, see the
/// configuration's tests).
#[tokio::test]
async fn the_lane_stays_within_its_share_of_the_connections() {
    let settings = PoolSettings {
        max_connections: 4,
        ..PoolSettings::default()
    };
    assert_eq!(
        (settings.lane_connections(), settings.pool_connections()),
        (2, 2)
    );
    let (_dir, db, lane, _) = open(settings).await;
    let loads = (0..32).map(|_| {
        let lane = lane.clone();
        tokio::spawn(async move { data(&lane).await })
    });
    for load in loads.collect::<Vec<_>>() {
        assert_eq!(load.await.expect("joined"), r#"{"n":1}"#);
    }
    assert!(
        (1..=2).contains(&lane.open_connections()),
        "{} lane connections open",
        lane.open_connections()
    );
    db.close().await;
}

/// A request given up in the middle of its statement (the phone hung up, a timeout)
/// does not take the lane's connection with it: the next requests are served, soon, by
/// no more connections than the lane may hold.
#[tokio::test]
async fn requests_given_up_half_way_leave_the_lane_working() {
    let settings = PoolSettings {
        max_connections: 2,
        acquire_timeout: Duration::from_secs(2),
        ..PoolSettings::default()
    };
    assert_eq!(settings.lane_connections(), 1);
    let (_dir, db, lane, _) = open(settings).await;
    // A local database often answers before the load is polled again: tried until 5
    // were given up half-way.
    let mut given_up = 0;
    for _ in 0..400 {
        if given_up == 5 {
            break;
        }
        // A shelved connection (once the last one given up is pinged and back), then a
        // load polled once: it takes that connection, sends its statement and waits for
        // the answer (unless the answer is already there); dropped there.
        assert_eq!(data(&lane).await, r#"{"n":1}"#);
        let mut load = std::pin::pin!(sessions::load(&lane, KEY, app::clock::unix_now()));
        given_up += tokio::select! {
            biased;
            _ = &mut load => 0,
            _ = std::future::ready(()) => 1,
        };
    }
    assert_eq!(given_up, 5, "loads given up half-way");
    assert_eq!(data(&lane).await, r#"{"n":1}"#);
    assert!(lane.open_connections() <= 1);
    db.close().await;
}

/// On shutdown the lane's connections close with the pool's: SQLite's last connection to
/// close checkpoints the write-ahead log into the database file and removes it.
#[tokio::test]
async fn the_lane_closes_with_the_pool() {
    if support::on_postgres() {
        println!("skipped here: runs in the SQLite pass");
        return;
    }
    let (dir, db, lane, _) = open(PoolSettings::default()).await;
    assert_eq!(data(&lane).await, r#"{"n":1}"#);
    let wal = dir.path().join("lixiao.db-wal");
    assert!(wal.exists(), "the database is in WAL mode");
    lane.close().await;
    db.close().await;
    assert_eq!(lane.open_connections(), 0);
    assert!(
        !wal.exists(),
        "the write-ahead log was not checkpointed and removed"
    );
    assert!(matches!(
        sessions::load(&lane, KEY, app::clock::unix_now()).await,
        Err(sqlx::Error::PoolClosed)
    ));
}

/// A shelved connection the database server dropped moments ago (too recently to be
/// pinged before use) fails its statement; the read runs again on a new connection and
/// the request is served.
#[tokio::test]
async fn a_read_on_a_connection_lost_moments_ago_runs_again() {
    if !support::on_postgres() {
        println!("skipped here: runs in the PostgreSQL pass (LIXIAO_TEST_BACKEND=postgres)");
        return;
    }
    let (_dir, db, lane, url) = open(PoolSettings::default()).await;
    assert_eq!(data(&lane).await, r#"{"n":1}"#);
    let database = url.rsplit('/').next().expect("a database name").to_owned();
    assert!(support::drop_server_connections(&database).await >= 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(data(&lane).await, r#"{"n":1}"#);
    assert_eq!(lane.open_connections(), 1);
    assert_eq!(lane.reads_run_again(), 1, "the read ran again");
    db.close().await;
}

/// A lane connection the database server dropped while it sat idle (a restart, a
/// proxy's idle timeout) is pinged before use and replaced: the request is served.
#[tokio::test]
async fn a_lane_connection_the_server_dropped_while_idle_is_replaced() {
    if !support::on_postgres() {
        println!("skipped here: runs in the PostgreSQL pass (LIXIAO_TEST_BACKEND=postgres)");
        return;
    }
    let settings = PoolSettings {
        ping_idle_after: Duration::from_millis(100),
        ..PoolSettings::default()
    };
    let (_dir, db, lane, url) = open(settings).await;
    assert_eq!(data(&lane).await, r#"{"n":1}"#);
    assert_eq!(lane.open_connections(), 1);
    let database = url.rsplit('/').next().expect("a database name").to_owned();

    let dropped = support::drop_server_connections(&database).await;
    assert!(dropped >= 1, "the lane's connection was dropped");
    tokio::time::sleep(Duration::from_millis(300)).await;

    assert_eq!(data(&lane).await, r#"{"n":1}"#);
    // The ping found it gone before the statement was sent: no read failed and ran again
    // (that other guard would serve the request too, and hide a missing ping).
    assert_eq!(lane.reads_run_again(), 0, "a read failed and ran again");
    db.close().await;
}

/// A statement still running when the lane closes (past the wait for it) ends with its
/// connection off the shelf, where nothing would take it again: on SQLite an open
/// connection keeps the write-ahead log from being checkpointed.
#[tokio::test]
async fn a_connection_lent_when_the_lane_closes_is_closed_not_shelved() {
    let (_dir, db, lane, _) = open(PoolSettings::default()).await;
    match &lane {
        Lane::Sqlite(shelf) => {
            let lent = shelf.acquire().await.expect("a lane connection");
            lane.close().await;
            lent.shelve();
        }
        Lane::Postgres(shelf) => {
            let lent = shelf.acquire().await.expect("a lane connection");
            lane.close().await;
            lent.shelve();
        }
    }
    assert_eq!(
        lane.open_connections(),
        0,
        "a connection stayed on the shelf"
    );
    db.close().await;
}

/// A request given up half-way just before the server stops: its connection is still
/// being pinged when the lane closes. Closing waits for that ping and closes the
/// connection itself, rather than leave it to a background task the exiting process may
/// never run.
#[tokio::test]
async fn closing_waits_for_a_connection_given_up_half_way() {
    let settings = PoolSettings {
        max_connections: 2,
        ..PoolSettings::default()
    };
    let (_dir, db, lane, _) = open(settings).await;
    let mut given_up = false;
    for _ in 0..400 {
        assert_eq!(data(&lane).await, r#"{"n":1}"#);
        let mut load = std::pin::pin!(sessions::load(&lane, KEY, app::clock::unix_now()));
        given_up = tokio::select! {
            biased;
            _ = &mut load => false,
            _ = std::future::ready(()) => true,
        };
        if given_up {
            break;
        }
    }
    assert!(given_up, "a load given up half-way");
    lane.close().await;
    assert_eq!(lane.open_connections(), 0, "a connection outlived the lane");
    db.close().await;
}
