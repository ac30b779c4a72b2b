//! `ipn-load-server --framework axum|actix --route bare|floor|direct|ipn|ipn-store|naive --bind 127.0.0.1:PORT`:
//! one measured route on one worker thread, with the system allocator (the throughput runs).

fn main() -> std::io::Result<()> {
    ipn_load::server::main(None)
}
