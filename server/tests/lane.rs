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
/// share, and with the pool's, the process stays within `max_connections`.
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
/// does not take the lane's connection with it: the next requests are served, by no
/// more connections than the lane may hold.
#[tokio::test]
async fn requests_given_up_half_way_leave_the_lane_working() {
    let settings = PoolSettings {
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
        ..PoolSettings::default()
    };
    let (_dir, db, lane, _) = open(settings).await;
    let mut given_up = 0;
    for _ in 0..20 {
        if tokio::time::timeout(
            Duration::from_micros(50),
            sessions::load(&lane, KEY, app::clock::unix_now()),
        )
        .await
        .is_err()
        {
            given_up += 1;
        }
    }
    assert!(given_up > 0, "no load was given up half-way");
    for _ in 0..5 {
        assert_eq!(data(&lane).await, r#"{"n":1}"#);
    }
    assert!(lane.open_connections() <= 1);
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
    db.close().await;
}
