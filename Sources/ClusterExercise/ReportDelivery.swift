import AsyncHTTPClient
import DRCore
import Exercise
import Foundation
import NIOCore
import NIOHTTP1

/// Sends the finished exercise's report where the config's `metrics` and `notify` say: a
/// node-exporter textfile, a Prometheus Pushgateway, a chat webhook. Every output is tried; what
/// fails comes back as a sentence for the operator, and never turns the verdict. Webhook URLs are
/// secrets, so no message here contains one.
public enum ReportDelivery {
    /// - Returns: one line per output that could not be delivered (empty when all went out).
    public static func deliver(
        _ report: ExerciseReport, metrics: ExerciseConfig.Metrics, notify: ExerciseConfig.Notify, finishedAt: Date,
        environment: [String: String] = ProcessInfo.processInfo.environment, log: @Sendable (String) -> Void = { _ in }
    ) async -> [String] {
        var problems: [String] = []
        let exposition = Data(report.prometheusText(finishedAt: finishedAt).utf8)
        if let textfile = metrics.textfile {
            let url = URL(fileURLWithPath: (textfile as NSString).expandingTildeInPath)
            do {
                // The collector reads it as another user: metrics are not secret.
                try AtomicFile.write(exposition, to: url, mode: 0o644)
                log("metrics: \(url.path)")
            } catch {
                problems.append("metrics.textfile \(url.path): \(error)")
            }
        }
        if let base = metrics.pushgateway {
            // One group per cluster, replaced on every run (PUT).
            let job = "longhorn_dr_exercise"
            let path = "/metrics/job/\(job)/cluster/\(percentEncoded(report.cluster))"
            let url = base.hasSuffix("/") ? String(base.dropLast()) + path : base + path
            if let problem = await send("PUT", url, body: exposition, contentType: "text/plain; version=0.0.4", what: "metrics.pushgateway \(base)") {
                problems.append(problem)
            } else {
                log("metrics pushed to \(base)")
            }
        }
        if let webhook = notify.webhook {
            let url: String?
            let name: String
            switch webhook {
            case .url(let text): (url, name) = (text, "notify.webhook.url")
            case .urlFromEnvironment(let variable):
                (url, name) = (environment[variable].flatMap { $0.isEmpty ? nil : $0 }, "notify.webhook (from $\(variable))")
            }
            if let url {
                if let problem = await send("POST", url, body: report.notificationJSON(), contentType: "application/json", what: name) {
                    problems.append(problem)
                } else {
                    log("notified \(name)")
                }
            } else {
                problems.append("\(name): the environment variable is not set, so nobody was notified")
            }
        }
        return problems
    }

    /// One request, TLS verified, no redirects, 15 s. Nil on a 2xx answer, else what went wrong.
    private static func send(_ method: String, _ url: String, body: Data, contentType: String, what: String) async -> String? {
        if let refusal = EndpointPolicy.cleartextRefusal(url) { return "\(what): the URL \(refusal)" }
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "User-Agent", value: "longhorn-dr")
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
            _ = try? await response.body.collect(upTo: 64 << 10)
            guard (200..<300).contains(response.status.code) else {
                return "\(what): answered HTTP \(response.status.code) \(response.status.reasonPhrase)"
            }
            return nil
        } catch {
            // Never echo the URL: a webhook's path is its secret.
            return "\(what): the request failed: \("\(error)".replacingOccurrences(of: url, with: "<url>"))"
        }
    }

    private static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_."))) ?? text
    }
}
