import Foundation
import KubeModels
import Testing

/// The real Longhorn CRDs of each reference release, as facts-only fixtures kept in the repository
/// (`Tests/Fixtures/crds/longhorn-RELEASE.json`: structural schemas without prose, written by
/// `scripts/make-crd-fixtures` from the reference copies).
struct LonghornCRDs: Sendable {
    static let releases = ["v1.7.3", "v1.9.2", "v1.10.2", "v1.12.1"]

    let release: String
    /// CustomResourceDefinition objects by `metadata.name`, e.g. `volumes.longhorn.io`.
    let definitions: [String: JSONValue]

    /// `Tests/Fixtures/crds/` of this package.
    static func folder(filePath: String = #filePath) -> URL {
        URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent("crds")
    }

    /// Loads one release; records a loud failure (never a skip) when its fixture is absent.
    static func load(_ release: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> LonghornCRDs {
        let file = folder().appendingPathComponent("longhorn-\(release).json")
        guard let data = try? Data(contentsOf: file) else {
            Issue.record("LONGHORN CRD FIXTURE IS MISSING: \(file.path) (scripts/make-crd-fixtures writes it)", sourceLocation: sourceLocation)
            throw MissingReference()
        }
        let body = try JSONValue(parsing: data)
        guard body["release"]?.stringValue == release else {
            Issue.record("\(file.path) names release \(body["release"]?.stringValue ?? "none"), not \(release)", sourceLocation: sourceLocation)
            throw MissingReference()
        }
        var definitions: [String: JSONValue] = [:]
        for value in body["definitions"]?.arrayValue ?? [] {
            guard value["kind"] == "CustomResourceDefinition", let name = value[path: ["metadata", "name"]]?.stringValue else { continue }
            definitions[name] = value
        }
        return LonghornCRDs(release: release, definitions: definitions)
    }

    static func loadAll(sourceLocation: SourceLocation = #_sourceLocation) throws -> [LonghornCRDs] {
        try releases.map { try load($0, sourceLocation: sourceLocation) }
    }

    /// The served v1beta2 schema of `plural.longhorn.io`.
    func schema(_ plural: String) -> JSONValue? {
        let versions = definitions["\(plural).longhorn.io"]?[path: ["spec", "versions"]]?.arrayValue ?? []
        return versions.first { $0["name"] == "v1beta2" }?[path: ["schema", "openAPIV3Schema"]]
    }

    struct MissingReference: Error {}
}
