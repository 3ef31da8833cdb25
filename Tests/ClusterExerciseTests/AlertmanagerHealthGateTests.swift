import ClusterExercise
import DRCore
import Foundation
import Testing

/// The log lines a gate wrote, collected across tasks.
final class LogLines: @unchecked Sendable {
    // A lock, not an actor: the gate's log callback is synchronous.
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}

@Suite struct AlertmanagerHealthGateTests {
    /// A gate that polls fast, so a test's timeout costs a second, not a phase budget. Its
    /// requests may take a minute: a test process busy elsewhere must not turn an answer into
    /// "could not be read" (CI saw 30 s for a loopback answer).
    static func gate(
        _ url: String, allowFiring: [String] = [], caFile: String? = nil, requestTimeout: Duration = .seconds(60)
    ) -> AlertmanagerHealthGate {
        var gate = AlertmanagerHealthGate(ExerciseConfig.Alertmanager(url: url, allowFiring: allowFiring, caFile: caFile))
        gate.pollInterval = .milliseconds(100)
        gate.requestTimeout = requestTimeout
        return gate
    }

    /// The gate's error after `timeout`; records a failure when it passed instead.
    static func failure(
        _ gate: AlertmanagerHealthGate, timeout: Duration = .seconds(1), log: LogLines = LogLines(), sourceLocation: SourceLocation = #_sourceLocation
    ) async -> DRError? {
        do {
            let seen = try await gate.wait(timeout: timeout) { log.append($0) }
            Issue.record("expected the gate to fail, but it passed: \(seen)", sourceLocation: sourceLocation)
            return nil
        } catch let error as DRError {
            return error
        } catch {
            Issue.record("expected a DRError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    @Test func noAlertFiringPassesAndAsksOnlyForActiveUnsilencedUninhibitedAlerts() async throws {
        let server = CannedAlertmanager()
        let seen = try await server.serve { url, _ in try await Self.gate(url + "/").wait(timeout: .seconds(60)) { _ in } }
        #expect(seen == "no alert firing")
        #expect(await server.requests == ["/api/v2/alerts?active=true&silenced=false&inhibited=false"], "a trailing / in the URL is not doubled")
    }

    @Test func aFiringAlertFailsAtTheTimeoutNamingIt() async throws {
        let server = CannedAlertmanager()
        await server.answer(alerts: [("DiskFull", ["namespace": "media", "severity": "critical", "job": "node"], "active")])
        let log = LogLines()
        let error = try await server.serve { url, _ in
            let error = await Self.failure(Self.gate(url), log: log)
            #expect(error?.subject == "Alertmanager \(url)")
            return error
        }
        let text = "\(try #require(error))"
        #expect(text.contains("1 alert still firing at the end of the phase budget"), "\(text)")
        #expect(text.contains("DiskFull {namespace=media, severity=critical} since 2026-01-02T03:04:05.000Z"), "\(text)")
        #expect(text.contains("silence them in Alertmanager, or list their names (DiskFull) in alertmanager.allowFiring; then --resume"), "\(text)")
        #expect(error?.status == .infrastructure)
        // Progress names what fires, at most every 30 s: once in this one-second wait of ten polls.
        let progress = log.all.filter { $0.contains("waiting for Alertmanager:") }
        #expect(progress == ["  waiting for Alertmanager: 1 alert firing: DiskFull {namespace=media, severity=critical}"], "\(log.all)")
        #expect(log.all.first?.contains("waiting ≤ 1s for Alertmanager http://127.0.0.1:") == true, "\(log.all)")
    }

    @Test func allowedAlertsPassAndAreCountedButOthersStillBlock() async throws {
        let server = CannedAlertmanager()
        await server.answer(alerts: [
            ("Watchdog", ["severity": "none"], "active"), ("InfoInhibitor", [:], "active"), ("Watchdog", ["prometheus": "b"], "active"),
        ])
        let seen = try await server.serve { url, _ in
            try await Self.gate(url, allowFiring: ["Watchdog", "InfoInhibitor"]).wait(timeout: .seconds(60)) { _ in }
        }
        #expect(seen == "3 allowed alerts firing: InfoInhibitor, Watchdog")

        await server.answer(alerts: [("Watchdog", [:], "active"), ("KubePodCrashLooping", ["namespace": "apps", "pod": "web-0"], "active")])
        let error = try await server.serve { url, _ in await Self.failure(Self.gate(url, allowFiring: ["Watchdog"])) }
        let text = "\(try #require(error))"
        #expect(text.contains("KubePodCrashLooping {namespace=apps, pod=web-0}"), "\(text)")
        #expect(!text.contains("Watchdog"), "an allowed alert is not named as blocking: \(text)")
    }

    @Test func anAlertThatStopsFiringDuringTheWaitPasses() async throws {
        let server = CannedAlertmanager()
        await server.answer(alerts: [("TargetDown", ["namespace": "monitoring"], "active")])
        let seen = try await server.serve { url, _ in
            // Resolved once the gate has seen it firing (not after a fixed time: on a busy
            // machine the first request can come later than any such time).
            let resolve = Task {
                while await server.requests.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
                await server.answer(alerts: [])
            }
            defer { resolve.cancel() }
            // A long timeout: a pass ends the wait at once, and a busy machine must not fail it.
            return try await Self.gate(url).wait(timeout: .seconds(120)) { _ in }
        }
        #expect(seen == "no alert firing")
        #expect(await server.requests.count >= 2, "it asked again until the alert was gone")
    }

    @Test func silencedInhibitedAndUnprocessedAlertsAreNotCounted() async throws {
        // An Alertmanager (or a proxy) that ignores the query's filters: the state decides.
        let server = CannedAlertmanager()
        await server.answer(alerts: [("Silenced", [:], "suppressed"), ("Inhibited", [:], "suppressed"), ("JustArrived", [:], "unprocessed")])
        let seen = try await server.serve { url, _ in try await Self.gate(url).wait(timeout: .seconds(60)) { _ in } }
        #expect(seen == "no alert firing")
    }

    @Test func anUnreachableAlertmanagerFailsNamingTheURLAndTheCause() async throws {
        // Port 1 on loopback: nothing listens, the connection is refused.
        let log = LogLines()
        let error = await Self.failure(Self.gate("http://127.0.0.1:1"), log: log)
        let text = "\(try #require(error))"
        #expect(error?.subject == "Alertmanager http://127.0.0.1:1")
        #expect(text.contains("could not be read within the phase budget; the last attempt: the request failed: connection refused"), "\(text)")
        #expect(text.contains("alertmanager.url") && text.contains("--resume"), "\(text)")
        #expect(log.all.contains { $0.hasPrefix("  waiting for Alertmanager http://127.0.0.1:1: the request failed") }, "\(log.all)")
    }

    @Test func anErrorAnswerOrOneThatIsNotJSONFailsSayingWhatCame() async throws {
        let server = CannedAlertmanager()
        await server.answer(status: 503, body: "upstream connect error")
        let unavailable = try await server.serve { url, _ in await Self.failure(Self.gate(url)) }
        #expect("\(try #require(unavailable))".contains("the last attempt: answered HTTP 503 Service Unavailable: upstream connect error"))

        await server.answer(body: "<html>\n  <title>Sign in</title>\n</html>", contentType: "text/html")
        let page = try await server.serve { url, _ in await Self.failure(Self.gate(url)) }
        let text = "\(try #require(page))"
        #expect(text.contains("answered HTTP 200 (text/html) but not with a JSON list of alerts: <html> <title>Sign in</title> </html>"), "\(text)")
    }

    @Test func anAnswerThatComesAfterTheBudgetStillNamesWhatFires() async throws {
        let server = CannedAlertmanager()
        await server.answer(alerts: [("KubeNodeNotReady", ["instance": "node-2"], "active")])
        await server.answer(after: .milliseconds(1500))
        let error = try await server.serve { url, _ in await Self.failure(Self.gate(url), timeout: .seconds(1)) }
        let text = "\(try #require(error))"
        #expect(text.contains("1 alert still firing at the end of the phase budget: KubeNodeNotReady {instance=node-2}"), "\(text)")
    }

    @Test func aRequestWithoutAnswerFailsAtItsOwnDeadline() async throws {
        let server = CannedAlertmanager()
        await server.answer(after: .seconds(3))
        let error = try await server.serve { url, _ in await Self.failure(Self.gate(url, requestTimeout: .seconds(1))) }
        let text = "\(try #require(error))"
        #expect(text.contains("could not be read within the phase budget; the last attempt: the request failed: no answer within 1s"), "\(text)")
    }

    @Test func anAlertmanagerThatAnswersLateIsWaitedFor() async throws {
        let server = CannedAlertmanager()
        await server.answer(status: 503, body: "not ready")
        let seen = try await server.serve { url, _ in
            let ready = Task {
                try await Task.sleep(for: .milliseconds(400))
                await server.answer(body: "[]")
            }
            defer { ready.cancel() }
            return try await Self.gate(url).wait(timeout: .seconds(120)) { _ in }
        }
        #expect(seen == "no alert firing")
    }

    @Test func httpsIsVerifiedAndCAFileAddsAPrivateCA() async throws {
        let server = CannedAlertmanager()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-am-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let caFile = folder.appendingPathComponent("ca.pem")
        let notPEM = folder.appendingPathComponent("not.pem")
        try Data("not a certificate".utf8).write(to: notPEM)
        try await server.serve(tls: true) { url, caPEM in
            #expect(url.hasPrefix("https://"))
            // Without the CA the certificate does not verify: the gate fails, naming the URL.
            let refused = await Self.failure(Self.gate(url))
            #expect(refused?.subject == "Alertmanager \(url)")
            #expect(
                refused?.detail.contains("the request failed: its TLS certificate does not verify against the system roots (CERTIFICATE_VERIFY_FAILED)")
                    == true,
                "\(String(describing: refused))")

            try Data(try #require(caPEM).utf8).write(to: caFile)
            let seen = try await Self.gate(url, caFile: caFile.path).wait(timeout: .seconds(60)) { _ in }
            #expect(seen == "no alert firing")

            let broken = await Self.failure(Self.gate(url, caFile: notPEM.path))
            #expect(broken?.subject == "alertmanager.caFile \(notPEM.path)")
            #expect(broken?.status == .environment)
        }
    }

    /// A caFile that holds no certificate is a preflight problem, found before anything is destroyed.
    @Test func aCAFileWithoutACertificateIsFoundBeforeTheGateRuns() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-am-ca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let notPEM = folder.appendingPathComponent("ca.pem")
        try Data("not a certificate\n".utf8).write(to: notPEM)
        let bad = await Self.gate("https://alertmanager.example:9093", caFile: notPEM.path).configurationProblem()
        #expect(bad?.contains("alertmanager.caFile \(notPEM.path)") == true, "\(bad ?? "nil")")
        let missing = await Self.gate("https://alertmanager.example:9093", caFile: folder.appendingPathComponent("absent.pem").path).configurationProblem()
        #expect(missing != nil)
        #expect(await Self.gate("https://alertmanager.example:9093").configurationProblem() == nil)
    }
}
