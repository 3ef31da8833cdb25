import Foundation
import KubeClient
import KubeModels
import Testing

func configMap(_ name: String, namespace: String = "default", data: [String: String] = [:], labels: [String: String] = [:]) -> JSONValue {
    var object: JSONValue = [
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "namespace": .string(namespace)],
        "data": .object(data.mapValues { .string($0) }),
    ]
    if !labels.isEmpty { object[path: ["metadata", "labels"]] = .object(labels.mapValues { .string($0) }) }
    return object
}

/// Runs `body` and returns the KubeClientError it throws (recording a failure if it does not).
func expectKubeError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async -> KubeClientError? {
    do {
        try await body()
        Issue.record("expected a KubeClientError, but the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let error as KubeClientError {
        return error
    } catch {
        Issue.record("expected a KubeClientError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
