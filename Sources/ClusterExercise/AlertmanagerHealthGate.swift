import AsyncHTTPClient
import DRCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// "All workloads healthy afterwards", as the cluster's own monitoring says it: after the Flux
/// gate, when the config names an Alertmanager, wait-ready waits until no alert fires but those
/// whose `alertname` is in `alertmanager.allowFiring`. Firing means state `active` in API v2:
/// silenced and inhibited (`suppressed`) alerts do not count. The Alertmanager often runs on the
/// rebuilt cluster itself, so one that does not answer yet is waited for as well; at the end of
/// the budget the phase fails with the alerts still firing, or with the last reason it could not
/// be read. TLS is always verified; `caFile` adds a private CA to the system roots.
public struct AlertmanagerHealthGate: Sendable {
    public var settings: ExerciseConfig.Alertmanager
    public var pollInterval: Duration = .seconds(5)
    /// The least time between two progress lines while waiting.
    public var progressInterval: Duration = .seconds(30)
    /// One request's deadline.
    public var requestTimeout: Duration = .seconds(10)

    public init(_ settings: ExerciseConfig.Alertmanager) {
        self.settings = settings
    }

    /// What API v2 answers to: active alerts that are neither silenced nor inhibited.
    public var alertsURL: String {
        let base = settings.url.hasSuffix("/") ? String(settings.url.dropLast()) : settings.url
        return base + "/api/v2/alerts?active=true&silenced=false&inhibited=false"
    }

    /// One alert as API v2 lists it: only the fields the gate reads.
    struct Alert: Decodable, Sendable, Equatable {
        var labels: [String: String]
        var startsAt: String?
        var status: Status?

        struct Status: Decodable, Sendable, Equatable {
            var state: String?
        }

        var name: String { labels["alertname"] ?? "(no alertname)" }
        /// `active`; `suppressed` (silenced or inhibited) and `unprocessed` ones are not firing.
        var firing: Bool { status?.state == "active" }

        /// `KubePodCrashLooping {namespace=media, severity=warning}`: the name and a few labels
        /// that say where (the rest would make the line unreadable).
        var summary: String {
            let shown = ["namespace", "severity", "pod", "instance"].compactMap { key in labels[key].map { "\(key)=\($0)" } }.prefix(3)
            return shown.isEmpty ? name : "\(name) {\(shown.joined(separator: ", "))}"
        }

        var line: String { summary + (startsAt.map { " since \($0)" } ?? "") }
    }

    /// What one look at the Alertmanager found.
    enum Observation: Equatable {
        /// The firing alerts, split into those that block and those allowed.
        case alerts(blocking: [Alert], allowed: [Alert])
        /// It could not be read: why, in words for the operator (never a secret: the URL carries none).
        case unreadable(String)
    }

    /// Waits until no alert fires but allowed ones; returns what it saw ("no alert firing",
    /// "2 allowed alerts firing: InfoInhibitor, Watchdog").
    /// - Throws: after `timeout`, a DRError naming each alert still firing (name, labels,
    ///   startsAt) or, when the last attempt got no usable answer, the URL and why; a DRError
    ///   when `caFile` holds no certificate.
    public func wait(timeout: Duration, log: @Sendable (String) -> Void) async throws -> String {
        let client = try makeClient()
        do {
            let result = try await poll(client: client, timeout: timeout, log: log)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func poll(client: HTTPClient, timeout: Duration, log: @Sendable (String) -> Void) async throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        let allowedText = settings.allowFiring.isEmpty ? "" : " (allowed to fire: \(settings.allowFiring.joined(separator: ", ")))"
        log(
            "  waiting ≤ \(DurationText.format(.seconds(max(1, timeout.components.seconds)))) for Alertmanager \(settings.url) to have no alert firing\(allowedText)"
        )
        var lastShown: ContinuousClock.Instant?
        while true {
            // Each request gets its whole deadline, even past the budget's end: an answer that
            // comes late still says what fires, which "could not be read" would hide.
            let observation = await observe(client: client, timeout: requestTimeout)
            try Task.checkCancellation()
            if case .alerts(let blocking, let allowed) = observation, blocking.isEmpty {
                return Self.summary(allowed: allowed)
            }
            if lastShown.map({ $0.duration(to: clock.now) >= progressInterval }) ?? true {
                lastShown = clock.now
                switch observation {
                case .alerts(let blocking, _):
                    let more = blocking.count > 5 ? "; and \(blocking.count - 5) more" : ""
                    log(
                        "  waiting for Alertmanager: \(Self.count(blocking.count, "alert")) firing: \(blocking.prefix(5).map(\.summary).joined(separator: "; "))\(more)"
                    )
                case .unreadable(let problem):
                    log("  waiting for Alertmanager \(settings.url): \(problem)")
                }
            }
            guard clock.now + pollInterval < deadline else { throw timedOut(observation) }
            try await Task.sleep(for: pollInterval)
        }
    }

    /// One GET of the firing alerts, split by `allowFiring`; any failure is an observation too.
    func observe(client: HTTPClient, timeout: Duration) async -> Observation {
        var request = HTTPClientRequest(url: alertsURL)
        request.method = .GET
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "longhorn-dr")
        let body: ByteBuffer
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: TimeAmount(timeout))
            body = try await response.body.collect(upTo: 16 << 20)
        } catch {
            return .unreadable("the request failed: \(describe(error))")
        }
        let data = Data(body.readableBytesView)
        guard (200..<300).contains(response.status.code) else {
            return .unreadable("answered HTTP \(response.status.code) \(response.status.reasonPhrase)\(ByteText.excerpt(data).map { ": \($0)" } ?? "")")
        }
        guard let alerts = try? JSONDecoder().decode([Alert].self, from: data) else {
            let type = response.headers.first(name: "Content-Type") ?? "no Content-Type"
            return .unreadable(
                "answered HTTP \(response.status.code) (\(type)) but not with a JSON list of alerts\(ByteText.excerpt(data).map { ": \($0)" } ?? "") (is this an Alertmanager's URL?)"
            )
        }
        let firing = alerts.filter(\.firing)
        return .alerts(blocking: firing.filter { !settings.allowFiring.contains($0.name) }, allowed: firing.filter { settings.allowFiring.contains($0.name) })
    }

    func timedOut(_ observation: Observation) -> DRError {
        switch observation {
        case .alerts(let blocking, _):
            let names = Array(Set(blocking.map(\.name))).sorted()
            return DRError(
                .infrastructure, subject: "Alertmanager \(settings.url)",
                detail: "\(Self.count(blocking.count, "alert")) still firing at the end of the phase budget: \(blocking.map(\.line).joined(separator: "; "))",
                hint:
                    "fix what they report, silence them in Alertmanager, or list their names (\(names.joined(separator: ", "))) in alertmanager.allowFiring; then --resume"
            )
        case .unreadable(let problem):
            return DRError(
                .infrastructure, subject: "Alertmanager \(settings.url)",
                detail: "could not be read within the phase budget; the last attempt: \(problem)",
                hint:
                    "check alertmanager.url and that this machine reaches it (one on the rebuilt cluster must be running and exposed); for a private CA set alertmanager.caFile; then --resume"
            )
        }
    }

    /// What in the settings would stop the gate before it asks anything (a `caFile` without a
    /// certificate), for the preflight: found before destroy, not after the rebuild.
    public func configurationProblem() async -> String? {
        do {
            try await makeClient().shutdown()
            return nil
        } catch let error as DRError {
            return "\(error.subject): \(error.detail)"
        } catch {
            return "alertmanager: \(error)"
        }
    }

    /// The HTTP client: certificates always verified, `caFile` trusted besides the system roots,
    /// no redirects (a login page behind one is not an Alertmanager).
    func makeClient() throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        if let caFile = settings.caFile {
            let path = (caFile as NSString).expandingTildeInPath
            do {
                let certificates = try NIOSSLCertificate.fromPEMFile(path)
                guard !certificates.isEmpty else { throw NIOSSLError.failedToLoadCertificate }
                tls.additionalTrustRoots = [.certificates(certificates)]
            } catch {
                throw DRError(
                    .environment, subject: "alertmanager.caFile \(path)", detail: "holds no PEM certificate that can be loaded (\(error))",
                    hint: "point it at the CA certificate that signed the Alertmanager's, PEM encoded (-----BEGIN CERTIFICATE-----); then --resume")
            }
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(5), read: TimeAmount(requestTimeout))
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// A transport error in words, for the usual ones; any other as it describes itself.
    func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return
                "its TLS certificate does not verify against the system roots\(settings.caFile == nil ? "" : " and alertmanager.caFile") (CERTIFICATE_VERIFY_FAILED)"
        }
        if text.contains("Connection refused") { return "connection refused (nothing listens at that address and port)" }
        if let client = error as? HTTPClientError, client == .connectTimeout { return "no connection within 5s" }
        if let client = error as? HTTPClientError, client == .deadlineExceeded || client == .readTimeout {
            return "no answer within \(DurationText.format(requestTimeout))"
        }
        return text
    }

    static func summary(allowed: [Alert]) -> String {
        guard !allowed.isEmpty else { return "no alert firing" }
        let names = Array(Set(allowed.map(\.name))).sorted()
        return "\(count(allowed.count, "allowed alert")) firing: \(names.joined(separator: ", "))"
    }

    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
}
