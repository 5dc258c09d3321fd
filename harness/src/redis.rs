//! A throwaway `redis-server` on a free loopback port, with no persistence, stopped (killed)
//! when dropped. Used by the Redis session-store tests and by profiles that run several
//! gateway replicas. It can be stopped and started again on the same port
//! ([`RedisServer::stop`], [`RedisServer::restart`]) to test clients across a Redis restart;
//! without persistence it comes back empty.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running redis-server.
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    addr: SocketAddr,
    binary: PathBuf,
}

/// Why redis-server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    /// Spawning failed.
    #[error("could not start {binary}: {source}")]
    Spawn {
        /// The binary.
        binary: String,
        /// The cause.
        source: std::io::Error,
    },
    /// It did not answer PING in time.
    #[error("redis-server on {addr} did not answer PING within 10 s (exit status: {status})")]
    NotReady {
        /// Where it should listen.
        addr: SocketAddr,
        /// The process state.
        status: String,
    },
}

impl RedisServer {
    /// Starts `binary` (usually from [`crate::system::require`]) on a free port.
    pub fn start(binary: &Path) -> Result<RedisServer, RedisError> {
        // Below the ephemeral range: a released bind(0) port could be taken by a client
        // connection before redis-server binds it.
        let port = crate::ports::private_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut server = RedisServer {
            child: spawn(binary, port)?,
            addr,
            binary: binary.to_owned(),
        };
        server.wait_ready()?;
        Ok(server)
    }

    /// Stops redis-server abruptly (SIGKILL, as a crash: no shutdown save) and waits for the
    /// process to exit; its port refuses connections until [`restart`](Self::restart).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts redis-server again on the same port (stopping it first if it still runs) and
    /// returns once it answers PING. With no persistence it comes back empty.
    pub fn restart(&mut self) -> Result<(), RedisError> {
        self.stop();
        self.child = spawn(&self.binary, self.addr.port())?;
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> Result<(), RedisError> {
        let addr = self.addr;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if ping(addr) {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(RedisError::NotReady {
                    addr,
                    status: status.to_string(),
                });
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        Err(RedisError::NotReady {
            addr,
            status: "still running".into(),
        })
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

fn spawn(binary: &Path, port: u16) -> Result<Child, RedisError> {
    Command::new(binary)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .args(["--dir", &std::env::temp_dir().display().to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|source| RedisError::Spawn {
            binary: binary.display().to_string(),
            source,
        })
}

fn ping(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 16];
    s.write_all(b"PING\r\n").is_ok() && s.read(&mut buf).is_ok_and(|n| buf[..n].starts_with(b"+PONG"))
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
