import AsyncHTTPClient
import ClusterExercise
import DRCore
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The real Alertmanager the live tests are pointed at, if any (a type of its own: a suite's
/// trait cannot refer to the suite).
enum LiveAlertmanager {
    static let url = ProcessInfo.processInfo.environment["LONGHORN_DR_TEST_ALERTMANAGER_URL"].flatMap { $0.isEmpty ? nil : $0 }
}

/// The gate against a real Alertmanager (API v2), which `scripts/e2e-alertmanager` starts on
/// loopback and names in `LONGHORN_DR_TEST_ALERTMANAGER_URL`. Off without the variable (plain
/// `swift test` stays hermetic); with it, an Alertmanager that does not answer is a failure, not
/// a skip. Serialized: the gate sees every alert, so one test's alert must be gone before the next.
@Suite(.serialized, .enabled(if: LiveAlertmanager.url != nil, "set LONGHORN_DR_TEST_ALERTMANAGER_URL (scripts/e2e-alertmanager does)"))
struct AlertmanagerLiveTests {
    static let url = LiveAlertmanager.url

    struct LiveError: Error, CustomStringConvertible {
        var description: String
    }

    static func baseURL() throws -> String {
        guard let url else { throw LiveError(description: "LONGHORN_DR_TEST_ALERTMANAGER_URL is not set") }
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    /// Sends `json` to the Alertmanager; returns the answer's body.
    /// - Throws: naming the URL, when it does not answer 2xx.
    @discardableResult
    static func send(_ method: HTTPMethod, _ path: String, json: Any? = nil) async throws -> Data {
        let target = try baseURL() + path
        var request = HTTPClientRequest(url: target)
        request.method = method
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        }
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            body = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw LiveError(description: "\(method.rawValue) \(target): the Alertmanager does not answer: \(error)")
        }
        let data = Data(body.readableBytesView)
        guard (200..<300).contains(response.status.code) else {
            throw LiveError(description: "\(method.rawValue) \(target): HTTP \(response.status.code): \(String(decoding: data, as: UTF8.self))")
        }
        return data
    }

    static func timestamp(_ offset: TimeInterval) -> String {
        ISO8601DateFormatter().string(from: Date().addingTimeInterval(offset))
    }

    /// Posts one alert as Prometheus would; `endsIn` ≤ 0 resolves it.
    static func post(_ name: String, endsIn: TimeInterval = 3600) async throws {
        let alert: [String: Any] = [
            "labels": ["alertname": name, "namespace": "dr-live", "severity": "critical"],
            "startsAt": timestamp(-60), "endsAt": timestamp(endsIn),
        ]
        try await send(.POST, "/api/v2/alerts", json: [alert])
    }

    static func gate(allowFiring: [String] = []) throws -> AlertmanagerHealthGate {
        var gate = AlertmanagerHealthGate(ExerciseConfig.Alertmanager(url: try baseURL(), allowFiring: allowFiring))
        gate.pollInterval = .milliseconds(200)
        return gate
    }

    static func uniqueName(_ prefix: String) -> String { prefix + UUID().uuidString.prefix(8) }

    @Test func theAlertmanagerAnswers() async throws {
        // A URL that is set but does not answer fails here, plainly, before any gate.
        try await Self.send(.GET, "/-/ready")
        let status = try JSONSerialization.jsonObject(with: try await Self.send(.GET, "/api/v2/status")) as? [String: Any]
        #expect(status?["versionInfo"] != nil, "an Alertmanager's /api/v2/status names its version")
    }

    @Test func aFiringAlertFailsTheGateNamingItUntilItIsSilenced() async throws {
        let name = Self.uniqueName("LonghornDRLiveFiring")
        try await Self.post(name)
        do {
            // (a) firing: the gate fails at its timeout, naming the alert, its labels and start.
            var error: DRError?
            do {
                let seen = try await Self.gate().wait(timeout: .seconds(2)) { _ in }
                Issue.record("the gate passed while \(name) fires: \(seen)")
            } catch let failure as DRError {
                error = failure
            }
            let text = "\(try #require(error))"
            #expect(text.contains("\(name) {namespace=dr-live, severity=critical} since "), "\(text)")
            #expect(text.contains("alertmanager.allowFiring"), "\(text)")

            // Allowed by name, the same alert lets the gate pass, and is counted.
            #expect(try await Self.gate(allowFiring: [name]).wait(timeout: .seconds(60)) { _ in } == "1 allowed alert firing: \(name)")

            // (b) silenced through the API: no longer firing, so the gate passes.
            let silence: [String: Any] = [
                "matchers": [["name": "alertname", "value": name, "isRegex": false, "isEqual": true]],
                "startsAt": Self.timestamp(-1), "endsAt": Self.timestamp(3600), "createdBy": "longhorn-dr tests", "comment": "AlertmanagerLiveTests",
            ]
            let answer = try JSONSerialization.jsonObject(with: try await Self.send(.POST, "/api/v2/silences", json: silence)) as? [String: Any]
            #expect(answer?["silenceID"] as? String != nil)
            #expect(try await Self.gate().wait(timeout: .seconds(60)) { _ in } == "no alert firing")
        } catch {
            try? await Self.post(name, endsIn: -1)
            throw error
        }
        try await Self.post(name, endsIn: -1)
    }

    @Test func anAlertResolvedDuringTheWaitLetsTheGatePass() async throws {
        let name = Self.uniqueName("LonghornDRLiveResolved")
        try await Self.post(name)
        let log = LogLines()
        let resolve = Task {
            try await Task.sleep(for: .seconds(1))
            try await Self.post(name, endsIn: -1)
        }
        let seen = try await Self.gate().wait(timeout: .seconds(120)) { log.append($0) }
        try await resolve.value
        #expect(seen == "no alert firing")
        #expect(log.all.contains { $0.contains("waiting for Alertmanager: 1 alert firing: \(name)") }, "it saw the alert fire first: \(log.all)")
    }
}
