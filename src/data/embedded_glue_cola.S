// The GLUE CoLA TSVs (data/glue/cola, see its README for attribution), assembled into the
// library's read-only data so that load_dataset("glue", "cola") works with no files around.
// The build passes -I<source dir> so that .incbin finds them.
    .section .rodata
    .balign 16
    .global ft_embedded_cola_train_begin
    .global ft_embedded_cola_train_end
ft_embedded_cola_train_begin:
    .incbin "data/glue/cola/train.tsv"
ft_embedded_cola_train_end:
    .balign 16
    .global ft_embedded_cola_dev_begin
    .global ft_embedded_cola_dev_end
ft_embedded_cola_dev_begin:
    .incbin "data/glue/cola/dev.tsv"
ft_embedded_cola_dev_end:
    .balign 16
    .global ft_embedded_cola_test_begin
    .global ft_embedded_cola_test_end
ft_embedded_cola_test_begin:
    .incbin "data/glue/cola/test.tsv"
ft_embedded_cola_test_end:
    // No executable stack needed.
    .section .note.GNU-stack,"",@progbits
