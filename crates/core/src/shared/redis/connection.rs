//! A connection to what a [`Target`] names: a multiplexed connection to one server (for
//! Sentinel, the primary the sentinels name at connection time), or the cluster client's
//! connection, which routes each command to the node that owns its key's slot.

use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, Cmd, Pipeline, RedisFuture, Value};

use super::target::Target;

/// One process's connection; clones share it.
#[derive(Clone)]
pub enum Connection {
    Node(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Node(c) => c.req_packed_command(cmd),
            Connection::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Node(c) => c.req_packed_commands(pipeline, offset, count),
            Connection::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Node(c) => c.get_db(),
            Connection::Cluster(c) => c.get_db(),
        }
    }
}

/// Connect, within `timeout` for the whole of it (asking the sentinels included).
pub async fn connect(target: &Target, timeout: Duration) -> redis::RedisResult<Connection> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout));
    let connecting = async {
        match target {
            Target::Single(client) => client
                .get_multiplexed_async_connection_with_config(&config)
                .await
                .map(Connection::Node),
            // The cluster client took its timeouts when it was built.
            Target::Cluster(client) => client.get_async_connection().await.map(Connection::Cluster),
            Target::Sentinel(sentinel) => {
                let primary = sentinel.client()?.async_get_client().await?;
                primary
                    .get_multiplexed_async_connection_with_config(&config)
                    .await
                    .map(Connection::Node)
            }
        }
    };
    match tokio::time::timeout(timeout, connecting).await {
        Ok(connected) => connected,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "connecting to Redis took too long",
        )
        .into()),
    }
}
