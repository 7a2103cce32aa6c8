//! The gRPC services a go-plugin server offers next to the provider itself: health, controller
//! (graceful shutdown), stdio and broker (both idle: this plugin writes nothing to them).

use std::pin::Pin;

use futures::Stream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use super::conn::Conn;
use super::goplugin::grpc_broker_server::{GrpcBroker, GrpcBrokerServer};
use super::goplugin::grpc_controller_server::{GrpcController, GrpcControllerServer};
use super::goplugin::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use super::goplugin::{ConnInfo, Empty, StdioData};
use crate::framework::Provider;
use crate::protocol::ProviderService;

/// go-plugin allows messages up to 2 GiB; Terraform's largest requests are states and plans.
const MAX_MESSAGE: usize = 256 * 1024 * 1024;

/// Serves every service on the accepted connections until `shutdown` fires.
pub(crate) async fn serve<P: Provider>(
    provider: ProviderService<P>,
    incoming: impl Stream<Item = std::io::Result<Conn>> + Send + 'static,
    shutdown: CancellationToken,
) {
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter.set_service_status("plugin", tonic_health::ServingStatus::Serving).await;
    let result = tonic::transport::Server::builder()
        .add_service(health)
        .add_service(GrpcControllerServer::new(Controller { shutdown: shutdown.clone() }))
        .add_service(GrpcStdioServer::new(Idle { shutdown: shutdown.clone() }))
        .add_service(GrpcBrokerServer::new(Idle { shutdown: shutdown.clone() }))
        .add_service(
            provider.into_server().max_decoding_message_size(MAX_MESSAGE).max_encoding_message_size(MAX_MESSAGE),
        )
        .serve_with_incoming_shutdown(incoming, shutdown.clone().cancelled_owned())
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "gRPC server stopped with an error");
        shutdown.cancel();
    }
}

struct Controller {
    shutdown: CancellationToken,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("shutdown requested by the client");
        self.shutdown.cancel();
        Ok(Response::new(Empty {}))
    }
}

/// Streams that stay open and silent until the plugin stops.
struct Idle {
    shutdown: CancellationToken,
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

impl Idle {
    fn silent<T: Send + 'static>(&self) -> BoxStream<T> {
        let stop = self.shutdown.clone();
        Box::pin(futures::stream::once(async move {
            stop.cancelled_owned().await;
            Err(Status::unavailable("plugin is shutting down"))
        }))
    }
}

#[tonic::async_trait]
impl GrpcStdio for Idle {
    async fn stream_stdio(&self, _: Request<()>) -> Result<Response<BoxStream<StdioData>>, Status> {
        Ok(Response::new(self.silent()))
    }
}

#[tonic::async_trait]
impl GrpcBroker for Idle {
    async fn start_stream(&self, _: Request<Streaming<ConnInfo>>) -> Result<Response<BoxStream<ConnInfo>>, Status> {
        Ok(Response::new(self.silent()))
    }
}
