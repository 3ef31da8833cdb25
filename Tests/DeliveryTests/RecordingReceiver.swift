import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SimulatorTestSupport

/// A webhook receiver and Pushgateway stand-in on loopback: records every request (method, path,
/// content type, body) and answers from a script of responses, the last repeated.
actor RecordingReceiver {
    struct Received: Sendable {
        var method: String
        var path: String
        var contentType: String
        var body: Data
        var at: ContinuousClock.Instant

        var json: Any? { try? JSONSerialization.jsonObject(with: body) }
    }

    struct Answer: Sendable {
        var status: Int
        var body: String
        var headers: [String: String]

        static let noContent = Answer(status: 204, body: "", headers: [:])
        static func rateLimited(retryAfter: Double) -> Answer {
            Answer(
                status: 429, body: "{\"message\": \"You are being rate limited.\", \"retry_after\": \(retryAfter), \"global\": false}",
                headers: ["Content-Type": "application/json"])
        }
    }

    private(set) var received: [Received] = []
    private var script: [Answer]

    init(answers: [Answer] = [.noContent]) {
        script = answers
    }

    fileprivate func record(_ request: Received) -> Answer {
        received.append(request)
        return script.count > 1 ? script.removeFirst() : script[0]
    }

    /// Serves until `body` returns; `body` gets `http://127.0.0.1:PORT`.
    func serve<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let responder = CallbackResponder<BasicRequestContext> { [self] request, _ in
            let data = try await request.body.collect(upTo: 1 << 20)
            let answer = await record(
                Received(
                    method: request.method.rawValue, path: request.uri.description, contentType: request.headers[.contentType] ?? "",
                    body: Data(data.readableBytesView), at: .now))
            var fields = HTTPFields()
            for (name, value) in answer.headers { if let field = HTTPField.Name(name) { fields[field] = value } }
            return Response(
                status: HTTPResponse.Status(code: answer.status), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body)))
        }
        return try await LoopbackHTTPServer.serve(responder) { port in try await body("http://127.0.0.1:\(port)") }
    }
}
