//! Writes the seed corpus of every target under `corpus/<target>/` (run from `fuzz/`):
//! signed notifications of every template and their raw HTTP form.

use std::path::Path;

use ipn_core::testkit::RawRequest;
use ipn_core::testkit::{DigestStyle, FormBuilder, FormTemplate, LinkBuilder, LinkTemplate, RestBuilder, RestTemplate};
use ipn_core::{Endpoint, FormAlgorithm};
use ipn_fuzz::{KEY, Split};

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new("corpus").join(target);
    std::fs::create_dir_all(&dir).expect("corpus dir");
    std::fs::write(dir.join(format!("seed-{name}")), bytes).expect("seed");
}

fn split(request: &RawRequest) -> Vec<u8> {
    Split {
        method: request.method().to_owned(),
        target: request.target().to_owned(),
        headers: request.headers().iter().map(|(n, v)| (n.clone(), v.clone().into_bytes())).collect(),
        body: request.body().to_vec(),
    }
    .to_bytes()
}

fn main() {
    let at = time::OffsetDateTime::from_unix_timestamp(1_669_921_702).expect("instant");
    for (i, template) in FormTemplate::ALL.into_iter().enumerate() {
        let request = FormBuilder::at(template, "12345678", at).sign(KEY, FormAlgorithm::HmacSha256);
        write("form", template.name(), request.body());
        write("capture", &format!("form-{}", template.name()), &request.to_http(Some("shop.example")));
        for (j, alg) in [0_u8, 1].into_iter().enumerate() {
            write("differential", &format!("form-{i}-{j}"), &[0, (i as u8) << 1 | alg, 40, 1, 0, b'x']);
        }
    }
    for (i, template) in RestTemplate::ALL.into_iter().enumerate() {
        let builder = RestBuilder::new(template, "12345678");
        write("rest", template.name(), builder.answer_text().as_bytes());
        let request = builder.sign(KEY, Endpoint::Ipn);
        write("rest", &format!("body-{}", template.name()), request.body());
        write("capture", &format!("rest-{}", template.name()), &request.to_http(Some("shop.example")));
        write("differential", &format!("rest-{i}"), &[1, (i as u8) << 1, 200, 0, 0, b'x']);
    }
    for (i, template) in LinkTemplate::ALL.into_iter().enumerate() {
        for (j, digest) in
            [DigestStyle::Rfc3230, DigestStyle::HexBase64, DigestStyle::ContentDigest].into_iter().enumerate()
        {
            let request = LinkBuilder::new(template, "fbab3ccc-719e-11ed-93ad-02420a0003c1")
                .date(at)
                .digest(digest)
                .with_authorization(j == 2)
                .sign(KEY)
                .expect("sign");
            write("link", &format!("{}-{j}", template.name()), &split(&request));
            write("capture", &format!("link-{}-{j}", template.name()), &request.to_http(Some("shop.example")));
            write("differential", &format!("link-{i}-{j}"), &[2 + 3 * j as u8, (i as u8) << 2 | 2, 100, 0, 0, b'x']);
        }
    }
}
