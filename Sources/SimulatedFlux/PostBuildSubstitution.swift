import Foundation
import KubeClient
import KubeModels

/// A Kustomization's `postBuild` variable substitution, as kustomize-controller does it after the
/// build: `${name}`, `${name:=default}` / `${name:-default}` (unset or empty), `${name=default}` /
/// `${name-default}` (unset only); `$${name}` is a literal `${name}`; `$name` without braces is
/// left alone. Strict, as kustomize-controller 1.9 is by default: a `${name}` with no value and no
/// default fails the build. An object labelled or annotated
/// `kustomize.toolkit.fluxcd.io/substitute: disabled` is left as it is.
///
/// Substitution runs on each string value of the built objects (Flux runs it on each object's
/// YAML text), so a `${var}` standing for a number or boolean stays a string here.
struct PostBuildSubstitution: Sendable {
    struct Failure: Error, Equatable, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    var variables: [String: String]
    /// `substituteStrategy: Always`; otherwise (WithVariables) nothing is substituted when there
    /// are no variables at all.
    var always = false

    static let disabledKey = "kustomize.toolkit.fluxcd.io/substitute"

    func apply(to objects: [JSONValue]) throws(Failure) -> [JSONValue] {
        guard always || !variables.isEmpty else { return objects }
        return try objects.map { object throws(Failure) in
            let opted = [["metadata", "labels", Self.disabledKey], ["metadata", "annotations", Self.disabledKey]].contains {
                object[path: $0]?.stringValue == "disabled"
            }
            return opted ? object : try substitute(object)
        }
    }

    private func substitute(_ value: JSONValue) throws(Failure) -> JSONValue {
        switch value {
        case .string(let text): .string(try substitute(text))
        case .array(let items): .array(try items.map { item throws(Failure) in try substitute(item) })
        case .object(let map):
            .object(
                try Dictionary(
                    uniqueKeysWithValues: map.map { entry throws(Failure) in (entry.key, try substitute(entry.value)) }))
        default: value
        }
    }

    /// `text` with every `${…}` replaced.
    func substitute(_ text: String) throws(Failure) -> String {
        guard text.contains("${") else { return text }
        var output = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            output += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.hasPrefix("${") {
                // `$${x}`: the escape for a literal `${x}`.
                output += "$"
                rest = after.dropFirst()
                if let close = rest.firstIndex(of: "}") {
                    output += rest[...close]
                    rest = rest[rest.index(after: close)...]
                }
                continue
            }
            guard after.hasPrefix("{"), let close = after.firstIndex(of: "}") else {
                output += "$"
                rest = after
                continue
            }
            output += try expand(String(after[after.index(after: after.startIndex)..<close]))
            rest = after[after.index(after: close)...]
        }
        return output + rest
    }

    private func expand(_ expression: String) throws(Failure) -> String {
        let name = String(expression.prefix { $0 == "_" || $0.isLetter || $0.isNumber })
        guard let first = name.first, first == "_" || first.isLetter else {
            throw Failure(message: "envsubst error: bad substitution \"${\(expression)}\"")
        }
        let operation = expression.dropFirst(name.count)
        let value = variables[name]
        for (prefix, emptyCounts) in [(":=", true), (":-", true), ("=", false), ("-", false)] where operation.hasPrefix(prefix) {
            let fallback = String(operation.dropFirst(prefix.count))
            if let value, !(emptyCounts && value.isEmpty) { return value }
            return fallback
        }
        guard operation.isEmpty else {
            throw Failure(message: "envsubst error: the simulated Flux does not support \"${\(expression)}\" (only ${var} and ${var:=default} forms)")
        }
        guard let value else { throw Failure(message: "envsubst error: variable not set (strict mode): \"\(name)\"") }
        return value
    }

    /// The variables of `kustomization`'s `postBuild`: `substituteFrom` ConfigMaps and Secrets in
    /// order (a later one wins), then `substitute` (wins over all). A missing source that is not
    /// `optional` fails the reconcile, as in Flux.
    static func variables(of kustomization: JSONValue, client: KubeClient) async throws(Failure) -> PostBuildSubstitution? {
        guard let postBuild = kustomization[path: ["spec", "postBuild"]] else { return nil }
        let namespace = kustomization[path: ["metadata", "namespace"]]?.stringValue ?? "flux-system"
        var variables: [String: String] = [:]
        for source in postBuild["substituteFrom"]?.arrayValue ?? [] {
            let kind = source["kind"]?.stringValue ?? "ConfigMap"
            let name = source["name"]?.stringValue ?? ""
            let optional = source["optional"]?.boolValue == true
            let resource: GroupVersionResource = kind == "Secret" ? .secrets : .configMaps
            let object: JSONValue?
            do {
                object = try await client.getIfPresent(resource, namespace: namespace, name: name)
            } catch {
                throw Failure(message: "substitute from '\(kind)/\(namespace)/\(name)' failed: \(error.detail)")
            }
            guard let object else {
                if optional { continue }
                throw Failure(
                    message: "substitute from '\(kind)/\(namespace)/\(name)' failed: \(kind == "Secret" ? "secrets" : "configmaps") \"\(name)\" not found")
            }
            for (key, value) in object["data"]?.objectValue ?? [:] {
                guard let text = value.stringValue else { continue }
                if kind == "Secret" {
                    variables[key] = Data(base64Encoded: text).map { String(decoding: $0, as: UTF8.self) } ?? ""
                } else {
                    variables[key] = text
                }
            }
        }
        for (key, value) in postBuild["substitute"]?.objectValue ?? [:] { variables[key] = value.stringValue ?? "" }
        return PostBuildSubstitution(variables: variables, always: kustomization[path: ["spec", "postBuild", "substituteStrategy"]]?.stringValue == "Always")
    }
}
