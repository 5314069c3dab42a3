// A public endpoint only through `PublicEndpoint::declared(reason)`.
fn main() {
    let _ = edge_guard::PublicEndpoint { reason: "" };
}
