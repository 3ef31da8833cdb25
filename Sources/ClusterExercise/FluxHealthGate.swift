import DRCore
import Foundation
import KubeClient
import KubeModels

/// The plan's success criterion "all workloads healthy afterwards", checked where GitOps says it:
/// after the rebuild, every Flux Kustomization and HelmRelease must be Ready (Ready=True for the
/// object's current generation). Names in `flux.allowNotReady` may stay not Ready, and suspended
/// objects are left alone; a cluster without the Flux API is reported as such, not passed.
public struct FluxHealthGate: Sendable {
    /// `namespace/name` or a bare `name` (any namespace).
    public var allowNotReady: [String]
    public var pollInterval: Duration = .seconds(2)

    public init(allowNotReady: [String]) {
        self.allowNotReady = allowNotReady
    }

    static let kinds: [(apiVersion: String, kind: String)] = [
        ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"), ("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
    ]

    /// One object that is not Ready, and why.
    struct Problem: Equatable {
        var kind: String
        var namespace: String
        var name: String
        var reason: String
        var message: String

        var line: String { "\(kind) \(namespace)/\(name): \(reason)\(message.isEmpty ? "" : ": \(message)")" }
    }

    /// Waits until every Kustomization and HelmRelease is Ready or allowed; returns what it saw
    /// ("5 Kustomizations and 2 HelmReleases Ready", or that Flux is not installed).
    /// - Throws: after `timeout`, a DRError listing each object that is still not Ready with its
    ///   reason and message.
    public func wait(client: KubeClient, timeout: Duration, log: @Sendable (String) -> Void) async throws -> String {
        var resources: [(kind: String, resource: GroupVersionResource)] = []
        for (apiVersion, kind) in Self.kinds {
            if let resource = try await client.resource(apiVersion: apiVersion, kind: kind) { resources.append((kind, resource)) }
        }
        guard !resources.isEmpty else {
            log("  Flux is not installed on the rebuilt cluster: its Kustomizations and HelmReleases are not checked")
            return "not installed"
        }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var lastShown = ""
        while true {
            var counts: [String: Int] = [:]
            var problems: [Problem] = []
            var allowed: [String] = []
            for (kind, resource) in resources {
                for object in try await client.list(resource).items {
                    counts[kind, default: 0] += 1
                    guard let problem = Self.problem(of: object, kind: kind) else { continue }
                    if Self.matches(problem, allowNotReady) { allowed.append("\(problem.namespace)/\(problem.name)") } else { problems.append(problem) }
                }
            }
            if problems.isEmpty {
                let summary = Self.kinds.map { "\(counts[$0.kind] ?? 0) \($0.kind)s" }.joined(separator: " and ") + " Ready"
                return allowed.isEmpty ? summary : summary + " (not Ready but allowed: \(allowed.sorted().joined(separator: ", ")))"
            }
            let shown = problems.map(\.line).joined(separator: "; ")
            if shown != lastShown {
                log("  waiting for Flux: \(problems.count) not Ready: \(shown)")
                lastShown = shown
            }
            guard clock.now + pollInterval < deadline else {
                throw DRError(
                    .infrastructure, subject: "Flux on the rebuilt cluster",
                    detail: "not Ready within the phase budget: \(problems.map(\.line).joined(separator: "; "))",
                    hint: "fix them (flux get all -A), or list those that may stay not Ready in flux.allowNotReady; then --resume")
            }
            try await Task.sleep(for: pollInterval)
        }
    }

    /// Why an object does not count as Ready, or nil when it does (or is suspended).
    static func problem(of object: JSONValue, kind: String) -> Problem? {
        if object[path: ["spec", "suspend"]]?.boolValue == true { return nil }
        let namespace = object[path: ["metadata", "namespace"]]?.stringValue ?? ""
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        let ready = object[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"]?.stringValue == "Ready" }
        let generation = object[path: ["metadata", "generation"]]?.intValue
        let observed = object[path: ["status", "observedGeneration"]]?.intValue
        if let generation, let observed, observed < generation {
            return Problem(kind: kind, namespace: namespace, name: name, reason: "Progressing", message: "generation \(generation) not reconciled yet")
        }
        guard let ready else { return Problem(kind: kind, namespace: namespace, name: name, reason: "NoStatus", message: "not reconciled yet") }
        if ready["status"]?.stringValue == "True" { return nil }
        return Problem(
            kind: kind, namespace: namespace, name: name, reason: ready["reason"]?.stringValue ?? "NotReady", message: ready["message"]?.stringValue ?? "")
    }

    static func matches(_ problem: Problem, _ allowed: [String]) -> Bool {
        allowed.contains { $0 == "\(problem.namespace)/\(problem.name)" || $0 == problem.name }
    }
}
