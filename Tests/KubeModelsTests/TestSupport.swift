import Testing

@testable import KubeModels

/// Parses JSON text in a test, recording a failure (and returning null) when it is not JSON.
func json(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSONValue {
    do {
        return try JSONValue(parsing: text)
    } catch {
        Issue.record("bad test JSON: \(error)", sourceLocation: sourceLocation)
        return .null
    }
}
