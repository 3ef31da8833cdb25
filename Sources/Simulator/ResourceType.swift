import KubeModels

/// One kind of object the simulated API server serves: its REST names, scope, subresources,
/// printer columns and the field selectors the real server supports for it.
public struct ResourceType: Sendable {
    public var group: String
    public var version: String
    /// The plural REST name, e.g. `pods`.
    public var resource: String
    public var kind: String
    public var singular: String
    public var namespaced: Bool
    public var shortNames: [String]
    public var categories: [String]
    /// `status`, `scale`, `log`, `exec`...
    public var subresources: [String]
    /// Extra field-selector paths beyond `metadata.name` and `metadata.namespace`.
    public var fieldSelectors: [String]
    public var columns: [TableColumn]
    /// True for kinds defined by a CustomResourceDefinition: no strategic merge patch, and
    /// updates must carry a resourceVersion.
    public var isCustom: Bool
    /// The structural schema of a custom resource (`openAPIV3Schema`), used for pruning and
    /// strict field validation.
    public var schema: JSONValue?
    /// Whether objects of this kind carry a `spec` whose changes bump `metadata.generation`.
    public var hasSpec: Bool

    public init(
        group: String, version: String, resource: String, kind: String, singular: String? = nil, namespaced: Bool,
        shortNames: [String] = [], categories: [String] = [], subresources: [String] = [], fieldSelectors: [String] = [],
        columns: [TableColumn] = [], isCustom: Bool = false, schema: JSONValue? = nil, hasSpec: Bool = true
    ) {
        self.group = group
        self.version = version
        self.resource = resource
        self.kind = kind
        self.singular = singular ?? kind.lowercased()
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.categories = categories
        self.subresources = subresources
        self.fieldSelectors = fieldSelectors
        self.columns = columns
        self.isCustom = isCustom
        self.schema = schema
        self.hasSpec = hasSpec
    }

    /// `v1` or `apps/v1`.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// A key unique across groups: `pods`, `deployments.apps`.
    public var id: String { group.isEmpty ? resource : "\(resource).\(group)" }
    public var hasStatus: Bool { subresources.contains("status") }

    /// Verbs as discovery lists them.
    public var verbs: [String] { ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"] }
}

/// A column of `kubectl get` output (server-side printing).
public struct TableColumn: Sendable {
    public var name: String
    public var type: String
    public var format: String
    public var priority: Int
    public var description: String
    /// Computes the cell from the object.
    public var cell: @Sendable (JSONValue) -> JSONValue

    public init(
        _ name: String, type: String = "string", format: String = "", priority: Int = 0, description: String = "",
        cell: @escaping @Sendable (JSONValue) -> JSONValue
    ) {
        self.name = name
        self.type = type
        self.format = format
        self.priority = priority
        self.description = description
        self.cell = cell
    }

    /// A column reading a JSON path like `.status.phase` (what CRDs declare as additionalPrinterColumns).
    public static func path(_ name: String, _ path: String, type: String = "string", priority: Int = 0) -> TableColumn {
        let keys = path.split(separator: ".").map(String.init)
        return TableColumn(name, type: type, priority: priority) { object in
            object[path: keys] ?? .null
        }
    }
}
