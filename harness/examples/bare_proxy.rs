//! A bare reverse proxy — hyper server + pooled hyper-util client, no authentication, no
//! header work — used by `gateway_bench` as the baseline for "what any proxy hop costs".
//! Built on the same stack as `ref-gateway` (hyper 1, hyper-util, multi-thread tokio).
//!
//! Usage: bare_proxy LISTEN_ADDR UPSTREAM_ADDR

use std::net::SocketAddr;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(upstream)) = (args.next(), args.next()) else {
        eprintln!("usage: bare_proxy LISTEN_ADDR UPSTREAM_ADDR");
        std::process::exit(2);
    };
    let listen: SocketAddr = listen.parse().expect("LISTEN_ADDR like 127.0.0.1:8080");
    let client: Client<HttpConnector, Incoming> = Client::builder(TokioExecutor::new()).build_http();
    let listener = tokio::net::TcpListener::bind(listen).await.expect("bind");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (client, upstream) = (client.clone(), upstream.clone());
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                let client = client.clone();
                let pq = req.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
                *req.uri_mut() = format!("http://{upstream}{pq}").parse::<Uri>().unwrap();
                async move {
                    let resp = client.request(req).await?;
                    Ok::<_, hyper_util::client::legacy::Error>(resp.map(|b| b.boxed()))
                }
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
