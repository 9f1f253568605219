// Placeholder until this component lands.
namespace switchyard::asl {}
