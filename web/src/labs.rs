//! The list of labs: the index page, the navigation and the placeholder
//! pages all read it.

/// Whether a lab trains live yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabStatus {
    Live,
    ComingSoon,
}

#[derive(Clone, Copy, Debug)]
pub struct Lab {
    /// The route, without the leading slash.
    pub slug: &'static str,
    pub title: &'static str,
    /// The model, in a few words.
    pub model: &'static str,
    /// What the visitor will see and do.
    pub summary: &'static str,
    pub status: LabStatus,
}

pub const LABS: [Lab; 8] = [
    Lab {
        slug: "playground",
        title: "2-D playground",
        model: "Multilayer perceptron",
        summary: "Train a small neural network to separate spirals, moons or circles, and \
                  watch its decision boundary bend around the data as it learns.",
        status: LabStatus::Live,
    },
    Lab {
        slug: "cnn",
        title: "Convolutional network",
        model: "Conv, pool, conv, pool, dense on MNIST",
        summary: "Kernels and feature maps of a digit, receptive fields, stride and padding \
                  explained, a confusion matrix, and a canvas to draw your own digit.",
        status: LabStatus::Live,
    },
    Lab {
        slug: "sequences",
        title: "Sequences",
        model: "Vanilla RNN versus GRU",
        summary: "Both networks side by side on a long-range memory task: gates and hidden \
                  state over time, and the vanishing gradient made visible.",
        status: LabStatus::ComingSoon,
    },
    Lab {
        slug: "attention",
        title: "Attention",
        model: "A small Transformer",
        summary: "Live attention maps for every head on an order-sensitive toy language, the \
                  positional-encoding heatmap, and what happens without it.",
        status: LabStatus::ComingSoon,
    },
    Lab {
        slug: "diffusion",
        title: "Diffusion",
        model: "DDPM with a small denoiser",
        summary: "Noise a point cloud or a digit step by step, then watch the model undo it: \
                  the schedule, each denoising step, and fresh samples.",
        status: LabStatus::ComingSoon,
    },
    Lab {
        slug: "gan",
        title: "GAN",
        model: "Generator versus discriminator",
        summary: "Two networks in a game on 2-D distributions: generated samples against the \
                  data, the discriminator's view as a heatmap, and both losses.",
        status: LabStatus::ComingSoon,
    },
    Lab {
        slug: "transfer",
        title: "Transfer learning",
        model: "The CNN, pretrained, then fine-tuned",
        summary: "Teach the digit network new classes from a few examples, some drawn by you; \
                  freeze layers and compare fine-tuning with training from scratch.",
        status: LabStatus::ComingSoon,
    },
    Lab {
        slug: "detection",
        title: "Object detection",
        model: "A tiny one-stage grid detector",
        summary: "Predicted boxes and confidences on synthetic shapes, and the mAP@0.5 score \
                  rising as the detector learns.",
        status: LabStatus::ComingSoon,
    },
];

pub fn find(slug: &str) -> Option<&'static Lab> {
    LABS.iter().find(|lab| lab.slug == slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_design_route_is_listed_once() {
        for slug in [
            "cnn",
            "sequences",
            "attention",
            "diffusion",
            "gan",
            "transfer",
            "detection",
        ] {
            assert_eq!(LABS.iter().filter(|l| l.slug == slug).count(), 1, "{slug}");
        }
        assert!(find("playground").is_some());
        assert!(find("nope").is_none());
    }
}
