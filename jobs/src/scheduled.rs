//! apalis-redis puts every task magflow pushes in its scheduled set (each push carries a
//! run time), and its fetch moves all the due ones to the active list in one Lua call,
//! unpacking them as arguments: past about 8,000 due tasks the call fails, the worker
//! dies, and every restart fails the same way (docs/stack-notes.md §5.10). Here tasks due
//! now go straight to the active list as they are pushed, and the due rest are moved a
//! thousand at a time before apalis sees them.

use std::sync::LazyLock;

use redis::{Script, aio::ConnectionLike};

/// Moves task `ARGV[1]` to the active list if it is in the scheduled set, then announces
/// its kind: one round trip, as the announcement alone took.
static START_NOW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('zrem', KEYS[1], ARGV[1]) == 1 then
    redis.call('rpush', KEYS[2], ARGV[1])
    redis.call('del', KEYS[3])
    redis.call('lpush', KEYS[3], 1)
end
return redis.call('publish', ARGV[2], ARGV[3])
",
    )
});

/// Moves at most `ARGV[2]` tasks due by `ARGV[1]` (seconds) to the active list.
static PROMOTE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local ids = redis.call('zrangebyscore', KEYS[1], 0, ARGV[1], 'LIMIT', 0, ARGV[2])
if #ids > 0 then
    redis.call('rpush', KEYS[2], unpack(ids))
    redis.call('zrem', KEYS[1], unpack(ids))
    redis.call('del', KEYS[3])
    redis.call('lpush', KEYS[3], 1)
end
return #ids
",
    )
});

/// Now as apalis-redis keeps a task's run time: whole seconds since the epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// How many due tasks one call moves: far below the limit of Lua's `unpack`.
pub const CHUNK: usize = 1000;

/// Puts task `id`, pushed to run now, on the active list, and publishes `message` on
/// `channel`.
pub async fn start_now<C: ConnectionLike>(
    conn: &mut C,
    config: &apalis_redis::Config,
    id: &str,
    channel: &str,
    message: &str,
) -> redis::RedisResult<()> {
    START_NOW
        .key(config.scheduled_jobs_set())
        .key(config.active_jobs_list())
        .key(config.signal_list())
        .arg(id)
        .arg(channel)
        .arg(message)
        .invoke_async::<i64>(conn)
        .await
        .map(|_| ())
}

/// Moves up to [`CHUNK`] tasks due by now to the active list; how many it moved.
pub async fn promote_due<C: ConnectionLike>(
    conn: &mut C,
    config: &apalis_redis::Config,
) -> redis::RedisResult<usize> {
    PROMOTE
        .key(config.scheduled_jobs_set())
        .key(config.active_jobs_list())
        .key(config.signal_list())
        .arg(now_secs())
        .arg(CHUNK)
        .invoke_async::<usize>(conn)
        .await
}
