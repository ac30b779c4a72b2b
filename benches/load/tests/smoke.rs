//! The load benchmark cannot rot: every framework × route starts and answers one valid
//! notification with 200 (the route behind the middleware with the middleware's reply), and the
//! store route answers a replay without calling the handler. Fast: one request per server, no load.

use std::net::TcpListener;
use std::sync::Arc;

use ipn_load::client::{self, Connection};
use ipn_load::notifications::{FORM_CONTENT_TYPE, form_bodies};
use ipn_load::probe::Probe;
use ipn_load::server::{self, Framework, Options, Route};

#[test]
fn every_route_answers_200() {
    let bodies = form_bodies(1);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    for framework in Framework::ALL {
        for route in Route::ALL {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("address");
            let options = Options { framework, route, store_capacity: 16 };
            // The server thread is left running until the test process ends.
            std::thread::spawn(move || server::run(&options, listener, Arc::new(Probe::new(None))));

            let request = client::post(addr, "/ipn", FORM_CONTENT_TYPE, &bodies[0]);
            let (first, second, stats) = runtime.block_on(async {
                let mut connection =
                    Connection::connect_patiently(addr, std::time::Duration::from_secs(10)).await.expect("connect");
                let first = connection.round_trip(&request).await.expect("first request");
                let first = (first, String::from_utf8_lossy(connection.body()).into_owned());
                let second = connection.round_trip(&request).await.expect("same connection, again");
                let second = (second, String::from_utf8_lossy(connection.body()).into_owned());
                connection.round_trip(&client::get(addr, "/__stats")).await.expect("stats");
                let stats = String::from_utf8_lossy(connection.body()).into_owned();
                (first, second, stats)
            });
            let (name, route_name) = (framework.name(), route.name());
            assert_eq!(first.0, 200, "{name} {route_name}: {}", first.1);
            assert_eq!(second.0, 200, "{name} {route_name}: {}", second.1);
            match route {
                Route::Bare | Route::Floor => assert_eq!(first.1, "Data received."),
                Route::Direct | Route::Ipn | Route::IpnStore | Route::Naive => {
                    assert_eq!(second.1, "Order successfully updated.", "{name} {route_name}");
                }
            }
            // The store answers the replay with the recorded reply, without calling the handler.
            let handled = if route == Route::IpnStore { "handled 1\n" } else { "handled 2\n" };
            assert!(stats.starts_with(handled), "{name} {route_name}: {stats}");
        }
    }
}

/// `ipn-load-gen paired` drives each server in turn and reports every route's req/s and its
/// ratio to the first: two servers, a few short slices.
#[test]
fn the_paired_generator_reports_a_ratio_per_route() {
    let mut servers = Vec::new();
    for route in [Route::Floor, Route::Ipn] {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        let options = Options { framework: Framework::Axum, route, store_capacity: 16 };
        std::thread::spawn(move || server::run(&options, listener, Arc::new(Probe::new(None))));
        servers.push(format!("{}={addr}", route.name()));
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ipn-load-gen"))
        .args(["paired", "--server", &servers[0], "--server", &servers[1]])
        .args(["--rounds", "3", "--slice", "0.05", "--settle", "0.01", "--connections", "2", "--distinct", "4"])
        .output()
        .expect("ipn-load-gen runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    let value = |name: &str, route: &str| -> Vec<f64> {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name} {route} ")))
            .unwrap_or_else(|| panic!("no `{name} {route}` line in {stdout}"))
            .split(' ')
            .map(|v| v.parse().expect("a number"))
            .collect()
    };
    assert!(value("rps", "floor")[0] > 0.0 && value("rps", "ipn")[0] > 0.0, "{stdout}");
    let [q1, median, q3] = value("ratio", "ipn")[..] else { panic!("three figures: {stdout}") };
    assert!(0.0 < q1 && q1 <= median && median <= q3, "{stdout}");
}
