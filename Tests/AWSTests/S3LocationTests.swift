import Foundation
import Testing

@testable import AWS

@Suite("S3Location")
struct S3LocationTests {
    @Test(
        "accepted backup target URLs",
        arguments: [
            ("s3://backups@us-east-1/", "backups", "us-east-1", ""),
            ("s3://backups@eu-west-1/longhorn/", "backups", "eu-west-1", "longhorn/"),
            ("s3://backups@eu-west-1/some/path", "backups", "eu-west-1", "some/path/"),
            ("s3://backups/some/path/", "backups", nil, "some/path/"),
            ("s3://my.dotted.bucket@ap-south-1//double//", "my.dotted.bucket", "ap-south-1", "double//"),
            ("S3://Legacy_Bucket@us-east-1/x/", "Legacy_Bucket", "us-east-1", "x/"),
            ("  s3://backups@us-east-1/p/  ", "backups", "us-east-1", "p/"),
        ] as [(String, String, String?, String)]
    )
    func parses(url: String, bucket: String, region: String?, prefix: String) throws {
        let location = try S3Location(parsing: url)
        #expect(location.bucket == bucket)
        #expect(location.region == region)
        #expect(location.prefix == prefix)
    }

    @Test(
        "rejected URLs name the URL, the problem and both accepted forms",
        arguments: [
            ("backups/path", "it is not a URL"),
            ("nfs://server:/export", "the scheme is \"nfs\""),
            ("s3://backups@us-east-1", "it has no path"),
            ("s3://backups", "it has no path"),
            ("s3://@us-east-1/path/", "the bucket name is empty"),
            ("s3://backups@/path/", "the region after \"@\" is empty"),
            ("s3://backups@us east/path/", "is not a region name"),
            ("s3://backups@us-east-1/path/?versionId=1", "query or fragment"),
            ("s3://back ups@us-east-1/path/", "is not a bucket name"),
        ] as [(String, String)]
    )
    func rejects(url: String, reason: String) {
        let error = #expect(throws: AWSError.self) { try S3Location(parsing: url) }
        #expect(error?.code == .invalidBackupTargetURL)
        let text = error?.description ?? ""
        #expect(text.contains("\"\(url)\""))
        #expect(text.contains(reason), "\(text)")
        #expect(text.contains("s3://bucket@region/path/ or s3://bucket/path"))
    }

    @Test("keys are the prefix plus Longhorn's relative path; description round-trips")
    func keysAndDescription() throws {
        let location = try S3Location(parsing: "s3://backups@us-east-1/cluster-a/")
        #expect(location.key("backupstore/volumes/ab/cd/pvc-1/volume.cfg") == "cluster-a/backupstore/volumes/ab/cd/pvc-1/volume.cfg")
        #expect(location.key("/backupstore/") == "cluster-a/backupstore/")
        #expect(location.description == "s3://backups@us-east-1/cluster-a/")
        #expect(try S3Location(parsing: location.description) == location)
        let root = try S3Location(parsing: "s3://backups/")
        #expect(root.key("backupstore/") == "backupstore/")
        #expect(root.description == "s3://backups/")
    }

    @Test("without a region in the URL the chain's region is used")
    func regionFallback() throws {
        let chain = AWSCredentialChain(environment: .inMemory(variables: ["AWS_REGION": "eu-north-1"]))
        #expect(try S3Location(parsing: "s3://b/p/").region(orFrom: chain) == "eu-north-1")
        #expect(try S3Location(parsing: "s3://b@us-west-2/p/").region(orFrom: chain) == "us-west-2")
        let empty = AWSCredentialChain(environment: .inMemory())
        let error = #expect(throws: AWSError.self) { try S3Location(parsing: "s3://b/p/").region(orFrom: empty) }
        #expect(error?.code == .noRegion)
    }
}

@Suite("S3Addressing")
struct S3AddressingTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var endpoint: String?
        var virtualHostedStyle: String?
        var bucket: String
        var expectedURL: String
        var testDescription: String { "\(endpoint ?? "AWS") style=\(virtualHostedStyle ?? "-") \(bucket)" }
    }

    @Test(
        "object URL for key 'backupstore/volumes/ab/cd/pvc 1/volume.cfg'",
        arguments: [
            Row(bucket: "backups", expectedURL: "https://backups.s3.eu-west-1.amazonaws.com/backupstore/volumes/ab/cd/pvc%201/volume.cfg"),
            Row(
                virtualHostedStyle: "false", bucket: "backups",
                expectedURL: "https://s3.eu-west-1.amazonaws.com/backups/backupstore/volumes/ab/cd/pvc%201/volume.cfg"),
            Row(
                virtualHostedStyle: "garbage", bucket: "backups",
                expectedURL: "https://backups.s3.eu-west-1.amazonaws.com/backupstore/volumes/ab/cd/pvc%201/volume.cfg"),
            // Names that cannot be a TLS host label fall back to path style.
            Row(bucket: "my.backups", expectedURL: "https://s3.eu-west-1.amazonaws.com/my.backups/backupstore/volumes/ab/cd/pvc%201/volume.cfg"),
            Row(bucket: "Legacy_Bucket", expectedURL: "https://s3.eu-west-1.amazonaws.com/Legacy_Bucket/backupstore/volumes/ab/cd/pvc%201/volume.cfg"),
            // A custom endpoint is path style unless VIRTUAL_HOSTED_STYLE says "true".
            Row(
                endpoint: "http://minio.minio.svc:9000", bucket: "backups",
                expectedURL: "http://minio.minio.svc:9000/backups/backupstore/volumes/ab/cd/pvc%201/volume.cfg"),
            Row(
                endpoint: "http://minio.minio.svc:9000/", virtualHostedStyle: "true", bucket: "backups",
                expectedURL: "http://backups.minio.minio.svc:9000/backupstore/volumes/ab/cd/pvc%201/volume.cfg"),
            Row(
                endpoint: "https://objects.example.com", virtualHostedStyle: "false", bucket: "backups",
                expectedURL: "https://objects.example.com/backups/backupstore/volumes/ab/cd/pvc%201/volume.cfg"),
            Row(
                endpoint: "objects.example.com:8443", bucket: "backups",
                expectedURL: "https://objects.example.com:8443/backups/backupstore/volumes/ab/cd/pvc%201/volume.cfg"),
            Row(
                endpoint: "https://gw.example.com/s3/", bucket: "backups",
                expectedURL: "https://gw.example.com/s3/backups/backupstore/volumes/ab/cd/pvc%201/volume.cfg"),
            Row(
                endpoint: "http://[fd00::1]:9000", bucket: "backups", expectedURL: "http://[fd00::1]:9000/backups/backupstore/volumes/ab/cd/pvc%201/volume.cfg"),
        ]
    )
    func objectURL(row: Row) throws {
        let addressing = try S3Addressing(region: "eu-west-1", customEndpoint: row.endpoint, virtualHostedStyle: row.virtualHostedStyle)
        let request = addressing.getObject(bucket: row.bucket, key: "backupstore/volumes/ab/cd/pvc 1/volume.cfg")
        #expect(request.method == "GET")
        #expect(request.url?.absoluteString == row.expectedURL)
    }

    @Test("keys are encoded per S3 rules with / kept")
    func keyEncoding() throws {
        let addressing = try S3Addressing(region: "us-east-1")
        let request = addressing.headObject(bucket: "bkt", key: "a b/c+d/é$/x~y")
        #expect(request.method == "HEAD")
        #expect(request.path == "/a%20b/c%2Bd/%C3%A9%24/x~y")
    }

    @Test("China regions use amazonaws.com.cn")
    func chinaEndpoint() throws {
        #expect(try S3Addressing(region: "cn-north-1").endpointHost == "s3.cn-north-1.amazonaws.com.cn")
    }

    @Test("ListObjectsV2: list-type=2 and the paging parameters")
    func listObjects() throws {
        let addressing = try S3Addressing(region: "us-east-1")
        let first = addressing.listObjectsV2(bucket: "backups", prefix: "cluster-a/backupstore/", maxKeys: 1000, delimiter: "/")
        #expect(
            first.url?.absoluteString
                == "https://backups.s3.us-east-1.amazonaws.com/?delimiter=%2F&encoding-type=url&list-type=2&max-keys=1000&prefix=cluster-a%2Fbackupstore%2F"
        )
        let next = addressing.listObjectsV2(bucket: "backups", continuationToken: "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=", urlEncodedKeys: false)
        #expect(
            next.url?.absoluteString
                == "https://backups.s3.us-east-1.amazonaws.com/?continuation-token=1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%2Fwm36Hy4vbOwM%3D&list-type=2"
        )
        let pathStyle = try S3Addressing(region: "us-east-1", customEndpoint: "http://minio:9000")
        #expect(pathStyle.listObjectsV2(bucket: "backups").url?.absoluteString == "http://minio:9000/backups?encoding-type=url&list-type=2")
    }

    @Test("GetObject with a byte range; PutObject with body and content type")
    func rangeAndPut() throws {
        let addressing = try S3Addressing(region: "us-east-1")
        let get = addressing.getObject(bucket: "b", key: "blocks/ab/cd/abcd.blk", range: 0...2_097_151)
        #expect(get.headerValues(named: "range") == ["bytes=0-2097151"])
        let put = addressing.putObject(bucket: "b", key: "drill/sentinel.txt", body: Data("hello".utf8), contentType: "text/plain")
        #expect(put.method == "PUT")
        #expect(put.body == Data("hello".utf8))
        #expect(put.firstHeader(named: "content-type") == "text/plain")
    }

    @Test(
        "unusable endpoints are rejected with the value and the expected form",
        arguments: [
            ("ftp://minio:21", "neither https nor http"),
            ("https://:9000", "the host is empty"),
            ("https://minio:notaport", "is not a port number"),
            ("https://minio:70000", "is not a port number"),
            ("https://user@minio", "user name"),
            ("https://[fd00::1", "closing ]"),
        ] as [(String, String)]
    )
    func badEndpoint(endpoint: String, reason: String) {
        let error = #expect(throws: AWSError.self) { try S3Addressing(region: "us-east-1", customEndpoint: endpoint) }
        #expect(error?.code == .invalidEndpoint)
        #expect(error?.description.contains(endpoint) == true)
        #expect(error?.description.contains(reason) == true, "\(String(describing: error))")
        #expect(error?.description.contains("https://host[:port]") == true)
    }

    @Test("an empty region is an error")
    func emptyRegion() {
        let error = #expect(throws: AWSError.self) { try S3Addressing(region: " ") }
        #expect(error?.code == .noRegion)
    }

    @Test("the built request signs as S3 and its URL matches the signed path and query")
    func signsConsistently() throws {
        let addressing = try S3Addressing(region: "us-east-1", customEndpoint: "http://minio:9000")
        let request = addressing.listObjectsV2(bucket: "backups", prefix: "a b/", maxKeys: 2)
        let signer = SigV4Signer(credentials: S3DocsFacts.credentials, region: "us-east-1", service: "s3")
        let result = signer.sign(request, date: S3DocsFacts.date)
        let lines = result.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)
        let url = try #require(request.url)
        #expect(String(lines[1]) == url.path(percentEncoded: true))
        #expect(String(lines[2]) == url.query(percentEncoded: true))
        #expect(lines.contains("host:minio:9000"))
    }
}
