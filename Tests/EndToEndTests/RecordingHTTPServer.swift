import CLITestSupport
import Foundation

/// A real HTTP server on loopback (Python's http.server) that records every request and answers
/// 500 to paths containing `/fail`, 200 otherwise. Stands in for a chat webhook and a Pushgateway.
final class RecordingHTTPServer {
    struct Request: Decodable, Sendable {
        var method: String
        var path: String
        var contentType: String
        var body: String
    }

    let port: Int
    private let process: BackgroundTool
    private let log: URL

    static let script = #"""
        import http.server, json, sys
        log = open(sys.argv[1], "a")
        class Handler(http.server.BaseHTTPRequestHandler):
            def record(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode("utf-8", "replace")
                log.write(json.dumps({"method": self.command, "path": self.path, "contentType": self.headers.get("Content-Type", ""), "body": body}) + "\n")
                log.flush()
                self.send_response(500 if "/fail" in self.path else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()
            do_POST = do_PUT = record
            def log_message(self, *args): pass
        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """#

    init() async throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-http-\(UUID().uuidString).jsonl")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process = try BackgroundTool(try TestTool.locate("python3", hint: "install python3"), ["-c", Self.script, log.path])
        // The first line is the port it bound.
        guard let port = Int(try await process.firstLine()) else {
            process.stop()
            throw CLIError(message: "the recording HTTP server (python3) did not start")
        }
        self.port = port
    }

    var requests: [Request] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }

    func stop() {
        process.stop()
        try? FileManager.default.removeItem(at: log)
    }
}
