import Foundation
import KubeModels
import Yams

/// Request bodies in YAML (server-side apply allows them; JSON is valid YAML too), and
/// manifests of several documents as the simulated bootstrap applies them.
public enum YAMLBody {
    /// Every non-empty document of a manifest file, as Kubernetes objects.
    public static func documents(_ text: String) throws -> [JSONValue] {
        try Yams.load_all(yaml: text).compactMap { $0 }.map { try JSONValue(any: normalize($0)) }
    }

    static func parse(_ data: Data) throws -> JSONValue {
        let text = String(decoding: data, as: UTF8.self)
        guard let any = try Yams.load(yaml: text) else { return .null }
        return try JSONValue(any: normalize(any))
    }

    /// Yams produces Int for whole numbers and Date for timestamps; Kubernetes keeps those as written.
    private static func normalize(_ value: Any) -> Any {
        switch value {
        case let map as [String: Any]: return map.mapValues(normalize)
        case let map as [AnyHashable: Any]:
            return Dictionary(map.map { ("\($0.key)", normalize($0.value)) }, uniquingKeysWith: { $1 })
        case let list as [Any]: return list.map(normalize)
        case let date as Date: return ClusterStore.timestamp(date)
        default: return value
        }
    }
}
