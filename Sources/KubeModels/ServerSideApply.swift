import Foundation

/// Server-side apply (`application/apply-patch+yaml`) and the managedFields bookkeeping of ordinary
/// writes, after structured-merge-diff as the apiserver uses it.
///
/// Maps and lists with a merge key in the `StrategicMergeSchema` are tracked field by field and
/// item by item; primitive lists tagged as merge lists are sets; every other list is atomic (owned
/// and replaced as a whole). Known simplifications: one merge key per list (the apiserver keys
/// container ports on `containerPort` and `protocol`), merged keyed lists keep the live order with
/// new items appended, and Update entries mark added maps with `.` by a heuristic instead of Go types.
public enum ServerSideApply {
    public typealias Path = FieldSet.Path

    /// Metadata the apiserver never records as owned (`apiVersion`, `kind`, `metadata.name`, ...).
    static let strippedSubtrees: [Path] = [
        [.field("apiVersion")], [.field("kind")],
        [.field("metadata"), .field("name")], [.field("metadata"), .field("namespace")],
        [.field("metadata"), .field("uid")], [.field("metadata"), .field("resourceVersion")],
        [.field("metadata"), .field("generation")], [.field("metadata"), .field("creationTimestamp")],
        [.field("metadata"), .field("selfLink")], [.field("metadata"), .field("managedFields")],
    ]

    static func stripped(_ set: FieldSet) -> FieldSet {
        var result = set.removingSubtrees(strippedSubtrees)
        result = result.subtracting(FieldSet([[.field("metadata")]]))
        return result
    }

    // MARK: - Field sets

    /// The fields an applied configuration sets: every scalar, null and empty map; every keyed list
    /// item (and its fields); every value of a primitive set list; atomic lists as a whole.
    /// Identity metadata (`apiVersion`, `kind`, `metadata.name`, ...) is left out.
    public static func fieldSet(of object: JSONValue, schema: StrategicMergeSchema?) -> FieldSet {
        var set = FieldSet()
        collect(object, path: [], field: StrategicMergeSchema.Field(schema: schema), into: &set)
        return stripped(set)
    }

    static func collect(_ value: JSONValue, path: Path, field: StrategicMergeSchema.Field?, into set: inout FieldSet) {
        switch value {
        case .object(let fields):
            if fields.isEmpty {
                if !path.isEmpty { set.insert(path) }
                return
            }
            for (key, child) in fields {
                collect(child, path: path + [.field(key)], field: field?.schema?[key], into: &set)
            }
        case .array(let items):
            guard let field, field.mergesList, let elements = listElements(items, field: field, path: path) else {
                set.insert(path)
                return
            }
            for (element, item) in elements {
                set.insert(element)
                if field.mergeKey != nil {
                    collect(item, path: element, field: StrategicMergeSchema.Field(schema: field.schema), into: &set)
                }
            }
        default:
            set.insert(path)
        }
    }

    /// Each item's path element in a merged list, or nil when the list must be treated as atomic
    /// (items without the merge key, or non-primitive items in a set list).
    static func listElements(_ items: [JSONValue], field: StrategicMergeSchema.Field, path: Path) -> [(Path, JSONValue)]? {
        var result: [(Path, JSONValue)] = []
        for item in items {
            if let mergeKey = field.mergeKey {
                guard let keyValue = item[mergeKey] else { return nil }
                result.append((path + [.key([mergeKey: keyValue])], item))
            } else {
                switch item {
                case .object, .array: return nil
                default: result.append((path + [.value(item)], item))
                }
            }
        }
        return result
    }

    /// Differences between two versions of an object: fields added or modified, and fields removed.
    /// `markAddedNodes` also records added maps and lists themselves (as Update entries show them,
    /// with `.`), except the top-level `metadata`, `spec` and `status`, which are never absent in Go.
    static func compare(
        _ old: JSONValue?, _ new: JSONValue?, path: Path, field: StrategicMergeSchema.Field?, markAddedNodes: Bool,
        changed: inout FieldSet, removed: inout FieldSet
    ) {
        if old == new { return }
        func all(_ value: JSONValue) -> FieldSet {
            var set = FieldSet()
            collect(value, path: path, field: field, into: &set)
            return set
        }
        func isNode(_ value: JSONValue) -> Bool {
            switch value {
            case .object(let fields): !fields.isEmpty
            case .array(let items): !items.isEmpty
            default: false
            }
        }
        let topLevelStruct: Bool = {
            guard path.count == 1, case .field(let name) = path[0] else { return false }
            return ["metadata", "spec", "status"].contains(name)
        }()
        switch (old, new) {
        case (nil, let value?):
            guard markAddedNodes, isNode(value) else {
                changed = changed.union(all(value))
                return
            }
            // Update entries own added maps and lists themselves too, at every depth.
            if !topLevelStruct, !path.isEmpty { changed.insert(path) }
            let empty: JSONValue = value.objectValue != nil ? .object([:]) : .array([])
            compare(empty, value, path: path, field: field, markAddedNodes: true, changed: &changed, removed: &removed)
        case (let value?, nil):
            removed = removed.union(all(value))
            if isNode(value), !path.isEmpty { removed.insert(path) }
        case (.object(let a)?, .object(let b)?):
            for key in Set(a.keys).union(b.keys) {
                compare(
                    a[key], b[key], path: path + [.field(key)], field: field?.schema?[key], markAddedNodes: markAddedNodes,
                    changed: &changed, removed: &removed)
            }
        case (.array(let a)?, .array(let b)?):
            if let field, field.mergesList, let oldItems = listElements(a, field: field, path: path),
                let newItems = listElements(b, field: field, path: path)
            {
                let elementField = StrategicMergeSchema.Field(schema: field.schema)
                let oldByPath = Dictionary(oldItems, uniquingKeysWith: { first, _ in first })
                let newByPath = Dictionary(newItems, uniquingKeysWith: { first, _ in first })
                for (element, item) in newItems where oldByPath[element] == nil {
                    changed.insert(element)
                    guard field.mergeKey != nil else { continue }
                    if markAddedNodes {
                        compare(
                            .object([:]), item, path: element, field: elementField, markAddedNodes: true,
                            changed: &changed, removed: &removed)
                    } else {
                        collect(item, path: element, field: elementField, into: &changed)
                    }
                }
                for (element, item) in oldItems where newByPath[element] == nil {
                    removed.insert(element)
                    if field.mergeKey != nil { collect(item, path: element, field: elementField, into: &removed) }
                }
                if field.mergeKey != nil {
                    for (element, item) in newItems {
                        guard let before = oldByPath[element] else { continue }
                        compare(
                            before, item, path: element, field: elementField, markAddedNodes: markAddedNodes,
                            changed: &changed, removed: &removed)
                    }
                }
            } else {
                changed.insert(path)
            }
        case (let before?, let after?):
            // A type change or a new scalar: the old subtree goes, the new value is modified.
            if isNode(before) { removed = removed.union(all(before).subtracting(FieldSet([path]))) }
            changed = changed.union(all(after))
            changed.insert(path)
        case (nil, nil):
            return
        }
    }

    // MARK: - Merging and pruning

    /// Merges an applied configuration into the live object: maps recursively, keyed lists item by
    /// item, set lists as a union, everything else replaced. `null` removes a field.
    static func merge(_ live: JSONValue?, _ config: JSONValue, field: StrategicMergeSchema.Field?) -> JSONValue {
        switch config {
        case .object(let changes):
            var result = live?.objectValue ?? [:]
            for (key, value) in changes {
                if value.isNull {
                    result.removeValue(forKey: key)
                } else {
                    result[key] = merge(result[key], value, field: field?.schema?[key])
                }
            }
            return .object(result)
        case .array(let items):
            guard let field, field.mergesList, let current = live?.arrayValue,
                listElements(current, field: field, path: []) != nil, listElements(items, field: field, path: []) != nil
            else {
                return config
            }
            var result = current
            for item in items {
                if let mergeKey = field.mergeKey, let keyValue = item[mergeKey] {
                    if let index = result.firstIndex(where: { $0[mergeKey] == keyValue }) {
                        result[index] = merge(result[index], item, field: StrategicMergeSchema.Field(schema: field.schema))
                    } else {
                        result.append(merge(nil, item, field: StrategicMergeSchema.Field(schema: field.schema)))
                    }
                } else if !result.contains(item) {
                    result.append(item)
                }
            }
            return .array(result)
        default:
            return config
        }
    }

    /// Removes the value at `path` (a no-op when it is not there).
    static func removing(_ path: ArraySlice<FieldSet.PathElement>, from value: JSONValue) -> JSONValue {
        guard let first = path.first else { return value }
        let last = path.count == 1
        switch (first, value) {
        case (.field(let name), .object(var fields)):
            guard let child = fields[name] else { return value }
            // Not `fields[name] = last ? nil : ...`: JSONValue is nil-literal convertible, so that stores `.null`.
            if last {
                fields.removeValue(forKey: name)
            } else {
                fields[name] = removing(path.dropFirst(), from: child)
            }
            return .object(fields)
        case (.key(let key), .array(var items)):
            guard let index = items.firstIndex(where: { item in key.allSatisfy { item[$0.key] == $0.value } }) else {
                return value
            }
            if last {
                items.remove(at: index)
            } else {
                items[index] = removing(path.dropFirst(), from: items[index])
            }
            return .array(items)
        case (.value(let target), .array(let items)):
            return last ? .array(items.filter { $0 != target }) : value
        case (.index(let index), .array(var items)):
            guard items.indices.contains(index) else { return value }
            if last {
                items.remove(at: index)
            } else {
                items[index] = removing(path.dropFirst(), from: items[index])
            }
            return .array(items)
        default:
            return value
        }
    }

    // MARK: - Apply

    /// Applies `config` for `manager`, as PATCH with `application/apply-patch+yaml` does.
    /// - Parameters:
    ///   - config: the caller's whole intent for the fields it manages.
    ///   - live: the stored object, or nil to create it.
    ///   - manager: the `fieldManager` query parameter.
    ///   - time: RFC 3339 timestamp for changed managedFields entries.
    ///   - force: `force=true`: take ownership of conflicting fields instead of failing.
    ///   - schema: merge keys for the kind; nil makes every list atomic.
    /// - Returns: the new object, `metadata.managedFields` updated. When nothing changed it equals
    ///   `live` exactly (timestamps of unchanged entries are kept).
    /// - Throws: `KubeModelsError` `.applyConflict` (its `status` is the apiserver's 409, with one
    ///   `FieldManagerConflict` cause per field) or `.applyMalformed`.
    public static func apply(
        _ config: JSONValue, to live: JSONValue?, manager: String, time: String, force: Bool = false,
        schema: StrategicMergeSchema?
    ) throws(KubeModelsError) -> JSONValue {
        guard case .object = config else {
            throw KubeModelsError(code: .applyMalformed, message: "an applied configuration must be an object, got \(config.jsonText)")
        }
        guard !manager.isEmpty else {
            throw KubeModelsError(
                code: .applyMalformed, message: "PATCH, PUT, and CREATE (or in the future, APPLY) require a fieldManager",
                hint: "pass ?fieldManager=<name> (kubectl sends one)")
        }
        let apiVersion = config["apiVersion"]?.stringValue ?? ""
        let liveObject = live ?? .object([:])
        var entries = try ManagedFieldsEntry.entries(of: liveObject)
        let liveBody = withoutManagedFields(liveObject)
        let configBody = withoutManagedFields(config)
        let rootField = StrategicMergeSchema.Field(schema: schema)

        let applied = fieldSet(of: configBody, schema: schema)
        var merged = merge(liveBody, configBody, field: rootField)
        var changed = FieldSet()
        var removedByMerge = FieldSet()
        compare(liveBody, merged, path: [], field: rootField, markAddedNodes: false, changed: &changed, removed: &removedByMerge)
        changed = stripped(changed)

        let mine = ManagedFieldsEntry(manager: manager, operation: .apply, apiVersion: apiVersion, time: time, fields: applied)
        let myIndex = entries.firstIndex { $0.sameIdentity(as: mine) }
        let lastSet = myIndex.map { entries[$0].fields } ?? FieldSet()

        var conflicts: [(entry: ManagedFieldsEntry, paths: [Path])] = []
        for (index, entry) in entries.enumerated() where index != myIndex {
            let contested = entry.fields.intersection(changed)
            guard !contested.isEmpty else { continue }
            conflicts.append((entry, contested.sortedPaths))
            if force { entries[index].fields = entry.fields.subtracting(contested) }
        }
        if !conflicts.isEmpty && !force {
            throw conflictError(conflicts)
        }

        // Prune what this manager applied last time, no longer applies, and nobody else owns.
        var ownedElsewhere = applied
        for (index, entry) in entries.enumerated() where index != myIndex { ownedElsewhere = ownedElsewhere.union(entry.fields) }
        let dropped = lastSet.subtracting(ownedElsewhere)
        // Shallow paths first, so a removed list item takes its fields with it. A path stays when
        // someone else still owns something below it, and an item's key fields stay with the item.
        for path in dropped.sortedPaths
        where !ownedElsewhere.paths.contains(where: { $0.count > path.count && $0.starts(with: path) }) {
            if path.count >= 2, case .key(let key) = path[path.count - 2], case .field(let name) = path[path.count - 1],
                key[name] != nil
            {
                continue
            }
            merged = removing(path[...], from: merged)
        }
        let removedNow = removedByMerge.union(dropped)

        for index in entries.indices where index != myIndex {
            entries[index].fields = entries[index].fields.subtracting(removedNow)
        }
        var updated = mine
        if let myIndex {
            let previous = entries[myIndex]
            if previous.fields == applied && previous.apiVersion == apiVersion { updated.time = previous.time }
            entries[myIndex] = updated
        } else {
            entries.append(updated)
        }
        return withManagedFields(merged, entries: entries)
    }

    /// Records a non-apply write (create, update, patch) by `manager` in managedFields: the manager
    /// takes every field it added or changed, from everyone, without conflicts; removed fields
    /// leave every manager.
    /// - Parameters:
    ///   - old: the stored object before the write (nil for a create); its managedFields are kept.
    ///   - new: the object as it will be stored; any managedFields it carries are ignored.
    ///   - apiVersion: the version the client wrote (defaults to `new.apiVersion`).
    ///   - subresource: e.g. `status` for writes to the status subresource.
    /// - Returns: `new` with updated managedFields; when nothing changed, old's entries unchanged.
    public static func recordUpdate(
        from old: JSONValue?, to new: JSONValue, manager: String, apiVersion: String? = nil, time: String,
        subresource: String? = nil, schema: StrategicMergeSchema?
    ) throws(KubeModelsError) -> JSONValue {
        var entries = try old.map { (value) throws(KubeModelsError) in try ManagedFieldsEntry.entries(of: value) } ?? []
        let oldBody = withoutManagedFields(old ?? .object([:]))
        let newBody = withoutManagedFields(new)
        var changed = FieldSet()
        var removed = FieldSet()
        compare(
            oldBody, newBody, path: [], field: StrategicMergeSchema.Field(schema: schema), markAddedNodes: true,
            changed: &changed, removed: &removed)
        changed = stripped(changed)
        removed = stripped(removed)
        if changed.isEmpty && removed.isEmpty { return withManagedFields(newBody, entries: entries) }

        let mine = ManagedFieldsEntry(
            manager: manager, operation: .update, apiVersion: apiVersion ?? new["apiVersion"]?.stringValue ?? "",
            time: time, subresource: subresource, fields: FieldSet())
        let myIndex = entries.firstIndex { $0.sameIdentity(as: mine) }
        for index in entries.indices where index != myIndex {
            entries[index].fields = entries[index].fields.subtracting(changed).subtracting(removed)
        }
        let previous = myIndex.map { entries[$0].fields } ?? FieldSet()
        var updated = mine
        updated.fields = previous.subtracting(removed).union(changed)
        if let myIndex {
            if updated.fields == previous { updated.time = entries[myIndex].time }
            entries[myIndex] = updated
        } else {
            entries.append(updated)
        }
        return withManagedFields(newBody, entries: entries)
    }

    // MARK: - Helpers

    static func withoutManagedFields(_ object: JSONValue) -> JSONValue {
        guard case .object = object, object[path: ["metadata", "managedFields"]] != nil else { return object }
        var copy = object
        copy[path: ["metadata", "managedFields"]] = nil
        return copy
    }

    static func withManagedFields(_ object: JSONValue, entries: [ManagedFieldsEntry]) -> JSONValue {
        let kept = ManagedFieldsEntry.sorted(entries.filter { !$0.fields.isEmpty })
        var copy = object
        if kept.isEmpty {
            if copy[path: ["metadata", "managedFields"]] != nil { copy[path: ["metadata", "managedFields"]] = nil }
            return copy
        }
        copy[path: ["metadata", "managedFields"]] = .array(kept.map(\.json))
        return copy
    }

    /// The apiserver's conflict status: `Apply failed with 1 conflict: conflict with "other": .data.a`,
    /// or a per-manager list for several.
    static func conflictError(_ conflicts: [(entry: ManagedFieldsEntry, paths: [Path])]) -> KubeModelsError {
        let total = conflicts.reduce(0) { $0 + $1.paths.count }
        var causes: [KubeStatus.Cause] = []
        for (entry, paths) in conflicts {
            for path in paths {
                causes.append(
                    KubeStatus.Cause(
                        reason: "FieldManagerConflict", message: "conflict with \(entry.printedManager)",
                        field: FieldSet.string(path)))
            }
        }
        let message: String
        if total == 1, let only = conflicts.first, let path = only.paths.first {
            message = "Apply failed with 1 conflict: conflict with \(only.entry.printedManager): \(FieldSet.string(path))"
        } else {
            var lines: [String] = []
            for (entry, paths) in conflicts.sorted(by: { $0.entry.manager < $1.entry.manager }) {
                lines.append("conflicts with \(entry.printedManager):")
                lines += paths.map { "- \(FieldSet.string($0))" }
            }
            message = "Apply failed with \(total) conflicts: \(lines.joined(separator: "\n"))"
        }
        return KubeModelsError(
            code: .applyConflict, subject: "server-side apply", message: message,
            hint: "re-run with --force-conflicts to take ownership, or leave these fields out of the applied file",
            causes: causes)
    }
}
