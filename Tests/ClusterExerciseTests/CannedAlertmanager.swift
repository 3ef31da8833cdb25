import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOCore
import NIOSSL
import Simulator
import SimulatorTestSupport

/// A stand-in Alertmanager on loopback: answers `GET /api/v2/alerts` with whatever the test set
/// last (status and body), over plain HTTP or over HTTPS with a certificate from a throwaway CA,
/// and records the request targets it was asked for.
actor CannedAlertmanager {
    private(set) var status = 200
    private(set) var body = "[]"
    private(set) var contentType = "application/json"
    private(set) var requests: [String] = []
    /// How long each answer takes: a slow Alertmanager.
    private(set) var delay: Duration = .zero

    func answer(status: Int = 200, body: String, contentType: String = "application/json") {
        self.status = status
        self.body = body
        self.contentType = contentType
    }

    func answer(after delay: Duration) {
        self.delay = delay
    }

    /// The alerts as API v2 lists them: `(alertname, extra labels, state)`.
    func answer(alerts: [(name: String, labels: [String: String], state: String)]) {
        answer(body: Self.json(alerts))
    }

    fileprivate func respond(to target: String) -> (status: Int, body: String, contentType: String) {
        requests.append(target)
        guard target.hasPrefix("/api/v2/alerts") else { return (404, "not found", "text/plain") }
        return (status, body, contentType)
    }

    static func json(_ alerts: [(name: String, labels: [String: String], state: String)]) -> String {
        let items: [[String: Any]] = alerts.map { alert in
            var labels = alert.labels
            labels["alertname"] = alert.name
            let suppressed = alert.state == "suppressed"
            return [
                "labels": labels, "annotations": [:] as [String: String], "startsAt": "2026-01-02T03:04:05.000Z",
                "endsAt": "2026-01-02T04:04:05.000Z", "updatedAt": "2026-01-02T03:04:05.000Z", "fingerprint": "0123456789abcdef",
                "receivers": [["name": "none"]],
                "status": ["state": alert.state, "silencedBy": suppressed ? ["silence-1"] : [], "inhibitedBy": [] as [String]],
            ]
        }
        let data = (try? JSONSerialization.data(withJSONObject: items, options: [.sortedKeys])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// Serves until `body` returns, then stops.
    /// - Parameters:
    ///   - tls: serve HTTPS with a fresh CA; `body` then gets the CA's PEM.
    ///   - body: gets the base URL (`http://127.0.0.1:PORT`) and, over TLS, the CA certificate PEM.
    func serve<T: Sendable>(tls: Bool = false, _ body: @Sendable (String, String?) async throws -> T) async throws -> T {
        let authority = tls ? try CertificateAuthority() : nil
        let server: HTTPServerBuilder
        if let authority {
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(authority.server.certificatePEM.utf8)).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(authority.server.privateKeyPEM.utf8), format: .pem)))
            server = try .tls(.http1(), tlsConfiguration: configuration)
        } else {
            server = .http1()
        }
        let responder = CallbackResponder<BasicRequestContext> { [self] request, _ in
            let (status, text, type) = await respond(to: request.uri.description)
            try await Task.sleep(for: await delay)
            var fields = HTTPFields()
            fields[.contentType] = type
            return Response(status: HTTPResponse.Status(code: status), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        let base = "\(tls ? "https" : "http")://127.0.0.1:"
        return try await LoopbackHTTPServer.serve(responder, server: server) { port in try await body(base + String(port), authority?.ca.certificatePEM) }
    }
}
