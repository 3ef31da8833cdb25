import DRCore
import Delivery
import Foundation
import Testing

@Suite struct ReportDeliveryTests {
    static let content = DeliveryContent(
        exposition: "# TYPE longhorn_dr_assure_success gauge\nlonghorn_dr_assure_success 1\n",
        pushgatewayGroup: PushgatewayGroup(job: "longhorn_dr_assure", labels: [.init("store", "s3://backups@us-east-1/longhorn/")]),
        webhookJSON: Data(#"{"text":"longhorn-dr assure: FAIL"}"#.utf8),
        discord: DiscordMessage(
            title: "Backup assurance FAIL", description: "1 of 2 volumes failed", colour: .fail, fields: [], at: Date(timeIntervalSince1970: 0)))

    /// Problems and log lines of one delivery.
    static func deliver(
        _ outputs: ReportDelivery.Outputs, environment: [String: String] = [:], attempts: Int = 3, requestTimeout: Duration = .seconds(60)
    ) async -> (problems: [String], log: [String]) {
        var delivery = ReportDelivery(outputs, environment: environment)
        delivery.attempts = attempts
        delivery.requestTimeout = requestTimeout
        let log = Lines()
        let problems = await delivery.deliver(content) { log.append($0) }
        return (problems, log.all)
    }

    @Test func metricsArePutToTheirPushgatewayGroupWithEveryLabelValueBase64Encoded() async throws {
        let receiver = RecordingReceiver(answers: [.init(status: 200, body: "", headers: [:])])
        let (problems, log) = try await receiver.serve { url in await Self.deliver(.init(pushgateway: url + "/")) }
        #expect(problems == [])
        let requests = await receiver.received
        try #require(requests.count == 1)
        #expect(requests[0].method == "PUT")
        // "s3://backups@us-east-1/longhorn/" in base64url, unpadded: the slashes cannot split the path.
        #expect(requests[0].path == "/metrics/job@base64/bG9uZ2hvcm5fZHJfYXNzdXJl/store@base64/czM6Ly9iYWNrdXBzQHVzLWVhc3QtMS9sb25naG9ybi8")
        #expect(requests[0].contentType == "text/plain; version=0.0.4")
        #expect(String(decoding: requests[0].body, as: UTF8.self) == Self.content.exposition)
        #expect(log.contains { $0.hasPrefix("metrics pushed to http://127.0.0.1:") })
    }

    @Test func anEmptyLabelValueIsSentAsTheDocumentedEqualsSign() {
        #expect(PushgatewayGroup(job: "j", labels: [.init("cluster", "")]).path == "/metrics/job@base64/ag/cluster@base64/=")
    }

    @Test func webhooksArePostedFromAnEnvironmentVariableOrAFileAndTheURLIsNeverPrinted() async throws {
        let receiver = RecordingReceiver()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("discord-url-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        let (problems, log) = try await receiver.serve { url in
            try Data("\(url)/api/webhooks/123/discord-token\n".utf8).write(to: file)
            return await Self.deliver(
                .init(webhook: .environment("HOOK"), discord: .file(file.path)), environment: ["HOOK": url + "/hooks/T0/webhook-token"])
        }
        #expect(problems == [])
        let requests = await receiver.received
        #expect(requests.map(\.path) == ["/hooks/T0/webhook-token", "/api/webhooks/123/discord-token"])
        #expect(requests.allSatisfy { $0.method == "POST" && $0.contentType == "application/json" })
        #expect(log == ["notified notify.webhook (from $HOOK)", "notified notify.discord (from \(file.path))"])
        let discord = try #require(requests.last?.json as? [String: Any])
        #expect(discord["username"] as? String == "longhorn-dr")
        #expect((discord["allowed_mentions"] as? [String: Any])?["parse"] as? [String] == [], "no pings from text that came from a store")
        let embed = try #require((discord["embeds"] as? [[String: Any]])?.first)
        #expect(embed["title"] as? String == "Backup assurance FAIL")
        #expect(embed["color"] as? Int == 0xE74C3C)
        #expect(embed["timestamp"] as? String == "1970-01-01T00:00:00Z")
    }

    @Test func aMissingURLOrAnErrorAnswerIsAProblemThatNamesNoSecret() async throws {
        let receiver = RecordingReceiver(answers: [.init(status: 404, body: "{\"message\": \"Unknown Webhook\", \"code\": 10015}", headers: [:])])
        let (problems, log) = try await receiver.serve { url in
            await Self.deliver(
                .init(webhook: .environment("UNSET"), discord: .environment("DISCORD")), environment: ["DISCORD": url + "/api/webhooks/9/secret-token"])
        }
        #expect(
            problems == [
                "notify.webhook (from $UNSET): the environment variable is not set, so nobody was notified",
                "notify.discord (from $DISCORD): answered HTTP 404 Not Found: {\"message\": \"Unknown Webhook\", \"code\": 10015}",
            ])
        #expect(log == [])
        #expect(!(problems + log).joined().contains("secret-token"))

        let unreadable = await Self.deliver(.init(discord: .file("/nonexistent/discord-url")))
        #expect(unreadable.problems == ["notify.discord (from /nonexistent/discord-url): the file cannot be read, so nobody was notified"])
        let refused = await Self.deliver(.init(webhook: .environment("HOOK")), environment: ["HOOK": "http://hooks.example/T0/secret-token"])
        #expect(refused.problems.count == 1 && refused.problems[0].contains("uses http:// to another machine"), "\(refused.problems)")
        #expect(!refused.problems.joined().contains("secret-token"))
    }

    @Test func aConnectionThatFailsNamesNoSecret() async throws {
        // Port 1 on loopback: refused, reported as such (not retried into a deadline).
        let (problems, _) = await Self.deliver(
            .init(discord: .environment("D")), environment: ["D": "http://127.0.0.1:1/api/webhooks/1/secret-token"])
        #expect(problems.count == 1 && problems[0].hasPrefix("notify.discord (from $D): the request failed"), "\(problems)")
        #expect(problems.joined().localizedCaseInsensitiveContains("refused"), "\(problems)")
        #expect(!problems.joined().contains("secret-token"), "\(problems)")
    }

    /// A webhook that redirects does not get the report sent where it points.
    @Test func aRedirectIsAProblemNotFollowed() async throws {
        let receiver = RecordingReceiver(answers: [.init(status: 307, body: "", headers: ["Location": "/elsewhere"])])
        let (problems, received) = try await receiver.serve { url in
            let outcome = await Self.deliver(.init(webhook: .environment("HOOK")), environment: ["HOOK": url + "/hook"])
            return (outcome.problems, await receiver.received.map(\.path))
        }
        #expect(problems == ["notify.webhook (from $HOOK): answered HTTP 307 Temporary Redirect"], "\(problems)")
        #expect(received == ["/hook"])
    }

    @Test func discordRateLimitsAreWaitedOutForTheRetryAfterTheyName() async throws {
        let receiver = RecordingReceiver(answers: [.rateLimited(retryAfter: 0.3), .rateLimited(retryAfter: 0.2), .noContent])
        let (problems, log) = try await receiver.serve { url in await Self.deliver(.init(discord: .environment("D")), environment: ["D": url + "/w"]) }
        #expect(problems == [])
        #expect(log == ["notified notify.discord (from $D)"])
        let requests = await receiver.received
        try #require(requests.count == 3)
        // The waits are lower bounds (a busy machine only adds to them).
        #expect(requests[0].at.duration(to: requests[1].at) >= .milliseconds(300))
        #expect(requests[1].at.duration(to: requests[2].at) >= .milliseconds(200))
        #expect(requests.allSatisfy { $0.body == requests[0].body }, "every attempt sends the same message")
    }

    @Test func aRateLimitThatOutlastsTheAttemptsOrTheLongestWaitIsAProblem() async throws {
        let persistent = RecordingReceiver(answers: [.rateLimited(retryAfter: 0.05)])
        let (problems, _) = try await persistent.serve { url in
            await Self.deliver(.init(discord: .environment("D")), environment: ["D": url + "/w"], attempts: 3)
        }
        #expect(problems == ["notify.discord (from $D): still rate limited (HTTP 429) after 3 attempts; not sent"])
        #expect(await persistent.received.count == 3)

        let long = RecordingReceiver(answers: [.rateLimited(retryAfter: 600)])
        let (waited, _) = try await long.serve { url in await Self.deliver(.init(discord: .environment("D")), environment: ["D": url + "/w"]) }
        #expect(waited == ["notify.discord (from $D): rate limited for 10m, longer than the 1m this run waits; not sent"])
        #expect(await long.received.count == 1)

        let header = RecordingReceiver(answers: [.init(status: 429, body: "slow down", headers: ["Retry-After": "0"]), .noContent])
        let (fromHeader, _) = try await header.serve { url in await Self.deliver(.init(webhook: .environment("W")), environment: ["W": url + "/w"]) }
        #expect(fromHeader == [], "Retry-After is honoured when the body names no retry_after")
        #expect(await header.received.count == 2)
    }

    @Test func everyOutputIsTriedWhenOneFails() async throws {
        let receiver = RecordingReceiver(answers: [.init(status: 500, body: "", headers: [:]), .noContent])
        // Under /dev/null, a file: no folder can be made there.
        let textfile = "/dev/null/assure.prom"
        let (problems, log) = try await receiver.serve { url in
            await Self.deliver(.init(textfile: textfile, pushgateway: url, discord: .environment("D")), environment: ["D": url + "/w"])
        }
        #expect(problems.count == 2, "\(problems)")
        #expect(problems.first?.hasPrefix("metrics textfile \(textfile):") == true, "\(problems)")
        #expect(problems.last?.hasPrefix("pushgateway http://127.0.0.1:") == true, "\(problems)")
        #expect(problems.last?.hasSuffix(": answered HTTP 500 Internal Server Error") == true, "\(problems)")
        #expect(log == ["notified notify.discord (from $D)"])
        #expect(await receiver.received.map(\.method) == ["PUT", "POST"])
    }
}

/// Log lines collected from a synchronous callback.
final class Lines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
