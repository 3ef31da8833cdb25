import Foundation
import KubeModels

/// Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks for.
enum TablePrinter {
    static func wantsTable(_ request: APIRequest) -> Bool {
        (request.header("accept") ?? "").contains("as=Table")
    }

    static func table(_ type: ResourceType, objects: [JSONValue], includeObject: String?, now: Date) -> JSONValue {
        let columns = type.columns.isEmpty ? defaultColumns : type.columns
        let definitions: [JSONValue] = columns.map { column in
            [
                "name": .string(column.name), "type": .string(column.type), "format": .string(column.format),
                "description": .string(column.description), "priority": .number(Double(column.priority)),
            ]
        }
        let rows: [JSONValue] = objects.map { object in
            let cells: [JSONValue] = columns.map { column in
                let value = column.cell(object)
                if column.name == "Age", let stamp = value.stringValue {
                    return .string(age(since: stamp, now: now))
                }
                return value == .null ? "<none>" : value
            }
            var row: JSONValue = ["cells": .array(cells)]
            switch includeObject {
            case "Object": row["object"] = object
            case "None": break
            default:
                row["object"] = ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"] ?? [:]]
            }
            return row
        }
        return ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": [:], "columnDefinitions": .array(definitions), "rows": .array(rows)]
    }

    private static let defaultColumns = [
        TableColumn("Name", format: "name") { $0[path: ["metadata", "name"]] ?? .null },
        TableColumn("Age") { $0[path: ["metadata", "creationTimestamp"]] ?? .null },
    ]

    /// kubectl's short human durations: `45s`, `3m12s`, `5h`, `2d3h`.
    static func age(since stamp: String, now: Date) -> String {
        let formatter = ISO8601DateFormatter()
        guard let date = formatter.date(from: stamp) else { return "<unknown>" }
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        let minutes = seconds / 60
        let hours = seconds / 3600
        let days = seconds / 86_400
        switch seconds {
        case ..<120: return "\(seconds)s"
        case ..<600: return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s"
        case ..<10_800: return "\(minutes)m"
        case ..<28_800: return hours * 60 == minutes ? "\(hours)h" : "\(hours)h\(minutes % 60)m"
        case ..<172_800: return "\(hours)h"
        case ..<691_200: return hours % 24 == 0 ? "\(days)d" : "\(days)d\(hours % 24)h"
        default: return "\(days)d"
        }
    }
}
