import AsyncHTTPClient
import DRCore
import Exercise
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// Sends a finished run's results where the operator asked: a node-exporter textfile, a
/// Prometheus Pushgateway, a generic JSON webhook, a Discord webhook. Every output is tried; what
/// fails comes back as a sentence for the operator and never turns the verdict. Webhook URLs are
/// secrets, so no message here contains one.
public struct ReportDelivery: Sendable {
    /// Where the results go; each output is optional.
    public struct Outputs: Sendable, Equatable {
        public var textfile: String?
        public var pushgateway: String?
        public var webhook: SecretURL?
        public var discord: SecretURL?

        public init(textfile: String? = nil, pushgateway: String? = nil, webhook: SecretURL? = nil, discord: SecretURL? = nil) {
            self.textfile = textfile
            self.pushgateway = pushgateway
            self.webhook = webhook
            self.discord = discord
        }
    }

    public var outputs: Outputs
    public var environment: [String: String]
    /// One request's deadline.
    public var requestTimeout: Duration = .seconds(15)
    /// Requests per notification when Discord answers 429 (the first included).
    public var attempts = 3
    /// The longest `retry_after` waited for; a longer one fails the notification at once.
    public var longestRetryWait: Duration = .seconds(60)

    public init(_ outputs: Outputs, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.outputs = outputs
        self.environment = environment
    }

    /// - Returns: one line per output that could not be delivered (empty when all went out).
    public func deliver(_ content: DeliveryContent, log: @Sendable (String) -> Void = { _ in }) async -> [String] {
        let client = makeClient()
        let problems = await deliver(content, client: client, log: log)
        try? await client.shutdown()
        return problems
    }

    /// A client of this delivery's own: TLS verified, no redirect followed (a webhook that
    /// answers 3xx does not get the report sent elsewhere), and a refused connection fails at
    /// once instead of being retried until the deadline (a dead Pushgateway cost 15 s).
    func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration(tlsConfiguration: .makeClientConfiguration())
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: TimeAmount(min(requestTimeout, .seconds(10))), read: TimeAmount(requestTimeout))
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    private func deliver(_ content: DeliveryContent, client: HTTPClient, log: @Sendable (String) -> Void) async -> [String] {
        var problems: [String] = []
        let exposition = Data(content.exposition.utf8)
        if let textfile = outputs.textfile {
            let url = URL(fileURLWithPath: (textfile as NSString).expandingTildeInPath)
            do {
                // The collector reads it as another user: metrics are not secret.
                try AtomicFile.write(exposition, to: url, mode: 0o644)
                log("metrics: \(url.path)")
            } catch {
                problems.append("metrics textfile \(url.path): \(error)")
            }
        }
        if let base = outputs.pushgateway {
            // One group per job and grouping labels, replaced on every run (PUT).
            let url = (base.hasSuffix("/") ? String(base.dropLast()) : base) + content.pushgatewayGroup.path
            let what = "pushgateway \(base)"
            if let problem = await send(client, "PUT", url, body: exposition, contentType: "text/plain; version=0.0.4", what: what, secret: false) {
                problems.append(problem)
            } else {
                log("metrics pushed to \(base)")
            }
        }
        for (key, secret, body) in [("webhook", outputs.webhook, content.webhookJSON), ("discord", outputs.discord, content.discord.json())] {
            guard let secret else { continue }
            let name = secret.name("notify.\(key)")
            switch secret.resolve(environment: environment) {
            case .failure(let problem):
                problems.append("\(name): \(problem), so nobody was notified")
            case .success(let url):
                if let problem = await send(client, "POST", url, body: body, contentType: "application/json", what: name, secret: true) {
                    problems.append(problem)
                } else {
                    log("notified \(name)")
                }
            }
        }
        return problems
    }

    /// One request through `client` (see ``makeClient()``); a 429 is retried after the
    /// `retry_after` it names (Discord's body, else the `Retry-After` header). Nil on a 2xx
    /// answer, else what went wrong, without the URL when it is a secret.
    func send(_ client: HTTPClient, _ method: String, _ url: String, body: Data, contentType: String, what: String, secret: Bool) async -> String? {
        if let refusal = EndpointPolicy.cleartextRefusal(url) { return "\(what): the URL \(refusal)" }
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "User-Agent", value: "longhorn-dr")
        for attempt in 1...max(1, attempts) {
            request.body = .bytes(ByteBuffer(bytes: body))
            let status: HTTPResponseStatus
            let answer: ByteBuffer
            let headers: HTTPHeaders
            do {
                let response = try await client.execute(request, timeout: TimeAmount(requestTimeout))
                status = response.status
                headers = response.headers
                answer = (try? await response.body.collect(upTo: 64 << 10)) ?? ByteBuffer()
            } catch {
                let text = "\(error)"
                return "\(what): the request failed: \(secret ? text.replacingOccurrences(of: url, with: "<url>") : text)"
            }
            if (200..<300).contains(status.code) { return nil }
            let excerpt = ByteText.excerpt(answer.readableBytesView, limit: 300)
            guard status.code == 429 else {
                return "\(what): answered HTTP \(status.code) \(status.reasonPhrase)\(excerpt.map { ": \($0)" } ?? "")"
            }
            guard let wait = Self.retryAfter(answer, headers: headers) else {
                return "\(what): answered HTTP 429 (rate limited) without saying when to retry"
            }
            guard wait <= longestRetryWait else {
                return
                    "\(what): rate limited for \(DurationText.format(wait)), longer than the \(DurationText.format(longestRetryWait)) this run waits; not sent"
            }
            guard attempt < attempts else {
                return "\(what): still rate limited (HTTP 429) after \(attempts) attempts; not sent"
            }
            do { try await Task.sleep(for: wait) } catch { return "\(what): cancelled while rate limited" }
        }
        return nil
    }

    /// Discord's `retry_after` (seconds, fractional) from the JSON body, else `Retry-After`.
    static func retryAfter(_ body: ByteBuffer, headers: HTTPHeaders) -> Duration? {
        struct RateLimit: Decodable { var retry_after: Double }
        if let limit = try? JSONDecoder().decode(RateLimit.self, from: Data(body.readableBytesView)), limit.retry_after >= 0 {
            return .milliseconds(Int64((limit.retry_after * 1000).rounded(.up)))
        }
        if let header = headers.first(name: "Retry-After"), let seconds = Double(header), seconds >= 0 {
            return .milliseconds(Int64((seconds * 1000).rounded(.up)))
        }
        return nil
    }
}
