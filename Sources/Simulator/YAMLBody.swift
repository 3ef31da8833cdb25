import Foundation
import KubeModels
import Yams

/// Request bodies in YAML (server-side apply allows them; JSON is valid YAML too).
enum YAMLBody {
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
