import Foundation
import KubeModels
import Testing
import Yams

/// The real Longhorn CRDs of each reference release, read at test time from
/// `shared/reference/longhorn-crds/` (never copied into the repository).
struct LonghornCRDs: Sendable {
    static let releases = ["v1.7.3", "v1.9.2", "v1.10.2", "v1.12.1"]

    let release: String
    /// CustomResourceDefinition objects by `metadata.name`, e.g. `volumes.longhorn.io`.
    let definitions: [String: JSONValue]

    /// The reference folder: `../shared/reference/longhorn-crds/` from the package root, looked up
    /// through the root's ancestors so a git worktree elsewhere finds it too.
    static func folder(filePath: String = #filePath) -> URL? {
        var root = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = root.appendingPathComponent("../shared/reference/longhorn-crds").standardizedFileURL
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            root = root.deletingLastPathComponent()
        }
        return nil
    }

    /// Loads one release; records a loud failure (never a skip) when the files are absent.
    static func load(_ release: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> LonghornCRDs {
        guard let folder = folder() else {
            Issue.record("""
                LONGHORN CRD REFERENCE FILES ARE MISSING: no shared/reference/longhorn-crds/ next to the package root or its parents. \
                The schema checks of every object sent to Longhorn cannot run without them.
                """, sourceLocation: sourceLocation)
            throw MissingReference()
        }
        let file = folder.appendingPathComponent("longhorn-\(release)-crds.yaml")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            Issue.record("LONGHORN CRD REFERENCE FILE IS MISSING: \(file.path)", sourceLocation: sourceLocation)
            throw MissingReference()
        }
        var definitions: [String: JSONValue] = [:]
        for document in try Yams.load_all(yaml: text) {
            let value = try JSONValue(any: normalize(document))
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

    private static func normalize(_ value: Any) -> Any {
        switch value {
        case let map as [String: Any]: return map.mapValues(normalize)
        case let map as [AnyHashable: Any]:
            return Dictionary(map.map { ("\($0.key)", normalize($0.value)) }, uniquingKeysWith: { $1 })
        case let list as [Any]: return list.map(normalize)
        case let date as Date: return ISO8601DateFormatter().string(from: date)
        default: return value
        }
    }
}
