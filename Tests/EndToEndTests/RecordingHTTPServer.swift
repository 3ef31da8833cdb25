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
    private let process: Process
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

    init() throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-http-\(UUID().uuidString).jsonl")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, log.path]
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // The first line is the port it bound.
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data([0x0A]) { line.append(byte) }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            throw CLIError(message: "the recording HTTP server (python3) did not start")
        }
        self.port = port
    }

    var requests: [Request] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }

    /// Kills the server without `waitUntilExit`, which was seen to spin forever on Linux.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        try? FileManager.default.removeItem(at: log)
    }
}
